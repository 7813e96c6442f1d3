"""XML-DSig's names, in one place: namespaces and the algorithm URIs the hub accepts (SHA-256
or stronger; SHA-1 and MD5 never) and the ones it signs with. Pure constants."""

from __future__ import annotations

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
DS11_NS = "http://www.w3.org/2009/xmldsig11#"
EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
MORE = "http://www.w3.org/2001/04/xmldsig-more#"
MORE11 = "http://www.w3.org/2021/04/xmldsig-more#"
ENC = "http://www.w3.org/2001/04/xmlenc#"

ENVELOPED = DS_NS + "enveloped-signature"
INCLUSIVE_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
EXCLUSIVE_C14N = EXC_C14N_NS
SHA256 = ENC + "sha256"
RSA_SHA256 = MORE + "rsa-sha256"
ECDSA_SHA256 = MORE + "ecdsa-sha256"

STRONG_SIGNATURE_METHODS = frozenset(
    {
        RSA_SHA256,
        MORE + "rsa-sha384",
        MORE + "rsa-sha512",
        ECDSA_SHA256,
        MORE + "ecdsa-sha384",
        MORE + "ecdsa-sha512",
        MORE11 + "rsa-sha3-256",
        MORE11 + "rsa-sha3-384",
        MORE11 + "rsa-sha3-512",
        MORE11 + "ecdsa-sha3-256",
        MORE11 + "ecdsa-sha3-384",
        MORE11 + "ecdsa-sha3-512",
    }
)
STRONG_DIGESTS = frozenset(
    {
        SHA256,
        MORE + "sha384",
        ENC + "sha512",
        "http://www.w3.org/2007/05/xmldsig-more#sha3-256",
        "http://www.w3.org/2007/05/xmldsig-more#sha3-384",
        "http://www.w3.org/2007/05/xmldsig-more#sha3-512",
    }
)
CANONICAL = frozenset(
    {
        INCLUSIVE_C14N,
        INCLUSIVE_C14N + "#WithComments",
        EXCLUSIVE_C14N,
        EXCLUSIVE_C14N + "WithComments",
        "http://www.w3.org/2006/12/xml-c14n11",
        "http://www.w3.org/2006/12/xml-c14n11#WithComments",
    }
)
