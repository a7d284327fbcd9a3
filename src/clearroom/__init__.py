"""Clearroom: an open cybersecurity transparency centre.

Vendors publish what they ship; regulators, labs and customers verify it against common
standards. The core libraries (``blobs`` now; ``tlog``, ``attest``, ``sbom``, ``vulns``,
``firmware``, ``rebuild``, ``standards`` later) never import Django; ``server`` is a thin
Django layer over them, ``jobs`` runs verification work, ``cli`` is the ``clearroom`` command.
"""

__version__ = "0.1.0"
