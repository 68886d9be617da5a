"""Compile the interview's ``.po`` catalogs into ``.mo`` files (Babel): ``python -m tui.locale.build``."""
from __future__ import annotations

import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOMAIN = "deelwijzer"


def po_files() -> list[Path]:
    return sorted(HERE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compiled(po: Path) -> bytes:
    """The ``.mo`` bytes for one ``.po`` file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main() -> int:
    for po in po_files():
        po.with_suffix(".mo").write_bytes(compiled(po))
        print(f"compiled {po.relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
