"""Legal-source catalogue: data (``catalogue/*.yaml``) and its loader."""
from legal_bases.catalogue import Catalogue, LegalSource, Text, load_catalogue
from legal_bases.textfile import Problem, YamlFileError

__all__ = ["Catalogue", "LegalSource", "Problem", "Text", "YamlFileError", "load_catalogue"]
