"""Control catalogues in the service: standards bodies publish versions of OSCAL catalogs, each
a logged fact; everyone reads them and gets the publisher's document back byte for byte."""
