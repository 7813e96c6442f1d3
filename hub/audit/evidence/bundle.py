"""What an evidence bundle is made of: its file names, format and README. Pure."""

from __future__ import annotations

import json

MANIFEST = "manifest.json"
MANIFEST_SIG = "manifest.sig"
FORMAT = "lienthong-evidence/1"

README = """\
Evidence bundle of the lienthong hub (Trục liên thông văn bản) — {format}

Document {document_id} sent by {sender}; exported {exported_at}.

packages/      every package about the document, byte for byte as submitted
receipts/      the hub's signed receipt for each package (XML-DSig, any implementation verifies)
chains/        the hash-chain links that recorded them, up to a sealed head
seals/         the signed seals (Merkle roots over every chain head) and each chain's audit path
certificates/  the hub's certificate and the signers' certificates
manifest.json  SHA-256 of every file, signed by the hub in manifest.sig

Check it offline with the CA certificate you trust:

    lienthong evidence verify THIS.zip --ca CA.pem

A receipt alone:  xmlsec1 --verify --trusted-pem CA.pem receipts/01.xml
"""


def pretty(value: object) -> bytes:
    return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True).encode() + b"\n"
