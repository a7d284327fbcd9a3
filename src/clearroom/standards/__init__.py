"""Control catalogues as data: what a standards body publishes (ETSI EN 303 645, the CRA's
essential requirements, 3GPP SCAS, NIST SSDF …) in OSCAL's catalog model, which assessment
tools already read. Core library: no Django."""

from clearroom.standards.catalogue import Catalogue, CatalogueError, Control, parse_oscal

__all__ = ["Catalogue", "CatalogueError", "Control", "parse_oscal"]
