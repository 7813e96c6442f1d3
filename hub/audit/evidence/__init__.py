"""Evidence bundles: everything about one document, checkable offline by anyone.

``lienthong evidence export DOCUMENT_ID -o FILE.zip`` writes (see docs/AUDIT.md):

- ``packages/NN-kind-outcome.edxml`` — every package about the document, byte for byte as
  submitted (the document, its updates and revocation, every status);
- ``receipts/NN.xml`` — the hub's signed receipt for each of them;
- ``chains/<chain>.json`` — for each chain involved, the links from the first one about the
  document up to a sealed head: links about the document in full, others only as their digest;
- ``seals/<n>.json`` — the seals those heads are in, with each chain's Merkle audit path;
- ``certificates/`` — the hub's certificate and the signers' certificates;
- ``manifest.json`` + ``manifest.sig`` — every file's SHA-256, signed by the hub.

``lienthong evidence verify FILE.zip --ca CA.pem`` needs nothing else: it checks the manifest,
each seal's signature and certificate, each chain up to its sealed head and that head's path
to the seal's root, each package's and receipt's digest against the links that recorded them,
and every XML signature; and it says which file and what is wrong.
"""

from hub.audit.evidence.bundle import FORMAT, MANIFEST, MANIFEST_SIG
from hub.audit.evidence.export import export
from hub.audit.evidence.verify import BundleReport, verify

__all__ = ["FORMAT", "MANIFEST", "MANIFEST_SIG", "BundleReport", "export", "verify"]
