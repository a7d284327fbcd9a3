"""clearroom.attest: keys, DSSE, statements, predicates, and interoperability with other DSSE
implementations."""
