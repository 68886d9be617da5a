"""Answer sets for the Pilot walk-throughs, in the contract's fact vocabulary.

Each covers every fact an interview might ask; the engine decides which are asked.
The expected advice is never written here: the tests ask the engine for it.
"""

from __future__ import annotations

# A 15-year-old, sexual exploitation, a parent suspected, no acute danger:
# the professional wants to report to Veilig Thuis without consent.
VEILIG_THUIS = {
    "professional.role": "jeugdhulpverlener",
    "client.age": 15,
    "client.authority": "parents",
    "client.under_ots": False,
    "share.parent_has_authority": True,
    "concern.exploitation": ["sexual"],
    "concern.parent_suspected": True,
    "concern.domestic_context": True,
    "danger.acute": False,
    "danger.structural": True,
    "share.recipient": "veilig_thuis",
    "share.purpose": "protection",
    "share.requested": False,
    "share.data": ["identity", "contact", "signals"],
    "share.anonymous_possible": False,
    "consent.status": "unsafe_to_ask",
    "consent.given_by": ["client"],
    "consent.explicit_written": False,
    "meldcode.steps_done": True,
    "meldcode.own_help_sufficient": False,
    "meldcode.help_accepted": False,
    "conflict.consent_effort": True,
    "conflict.serious_harm": True,
    "conflict.no_alternative": True,
    "conflict.effective": True,
    "conflict.consulted": True,
    "inform.would_endanger": True,
}

# Acute danger right now: the emergency route.
ACUTE = dict(VEILIG_THUIS, **{"danger.acute": True, "share.recipient": "police",
                              "share.purpose": "protection"})

# Sharing with a colleague inside the help itself.
COLLEAGUE = dict(VEILIG_THUIS, **{"share.recipient": "colleague_involved", "share.purpose": "care",
                                  "danger.acute": False, "consent.status": "given",
                                  "concern.parent_suspected": False})
