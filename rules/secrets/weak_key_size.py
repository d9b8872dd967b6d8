"""BE515 weak-key-size: RSA/DSA keys under 2048 bits, elliptic curves under 224 bits."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity, option
from be_lint.secrets import (
    argument,
    int_value,
    report_by_place,
    terminal_name,
    test_paths_option,
    test_severity_option,
    validate_test_severity,
)

RATIONALE = """\
Key size is the work factor of public-key cryptography. RSA-512 is factored in hours on rented
machines, RSA-768 has been factored publicly, and 1024-bit RSA and DSA are within reach of
well-funded attackers; NIST disallowed them for signatures and key exchange after 2013.
Elliptic curves under 224 bits (`SECP192R1`, `SECT163K1`) are likewise retired.

Reported, when the size is a constant (literals, `2 ** 10`, names holding one):

- cryptography's `rsa.generate_private_key(public_exponent, key_size)` and
  `dsa.generate_private_key(key_size)` below `min-rsa-bits` (2048);
- pycryptodome/pycrypto `RSA.generate(bits)` and `DSA.generate(bits)` below it;
- `ec.generate_private_key(ec.SECP192R1())` and other curves under 224 bits.

Test code (`test-paths`) is skipped by default: tests generate small keys to run fast.
"""

HOW_TO_FIX = """\
Generate RSA keys of 3072 bits (2048 at the very least), or prefer Ed25519/X25519 or P-256,
which are faster and smaller at a higher security level:
`ed25519.Ed25519PrivateKey.generate()`, `ec.generate_private_key(ec.SECP256R1())`.
"""

_RSA_CALLS = {
    "cryptography.hazmat.primitives.asymmetric.rsa.generate_private_key": ("key_size", 1, "RSA"),
    "cryptography.hazmat.primitives.asymmetric.dsa.generate_private_key": ("key_size", 0, "DSA"),
    "Crypto.PublicKey.RSA.generate": ("bits", 0, "RSA"),
    "Crypto.PublicKey.DSA.generate": ("bits", 0, "DSA"),
    "Cryptodome.PublicKey.RSA.generate": ("bits", 0, "RSA"),
    "Cryptodome.PublicKey.DSA.generate": ("bits", 0, "DSA"),
}
_EC_CALL = "cryptography.hazmat.primitives.asymmetric.ec.generate_private_key"
_WEAK_CURVES = frozenset({"SECP192R1", "SECT163K1", "SECT163R2"})


@dataclass(frozen=True)
class Options:
    min_rsa_bits: int = option(2048, "Smallest RSA/DSA key size (bits) not reported.")
    test_paths: tuple[str, ...] = test_paths_option()
    test_severity: str = test_severity_option("off")

    def __post_init__(self) -> None:
        validate_test_severity(self)


class WeakKeySize(PythonRule):
    meta = RuleMeta(
        code="BE515",
        name="weak-key-size",
        summary="RSA/DSA key under 2048 bits or a retired elliptic curve",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=326,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/326.html",
            "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final",
        ),
    )
    options_class = Options
    triggers = ("generate",)

    bad = (
        Example(
            """\
from Crypto.PublicKey import RSA
from cryptography.hazmat.primitives.asymmetric import ec, rsa

KEY_BITS = 1024

signing = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)  # expect: BE515
legacy = RSA.generate(2 ** 10)  # expect: BE515
curve = ec.generate_private_key(ec.SECP192R1())  # expect: BE515
"""
        ),
    )
    good = (
        Example(
            """\
from Crypto.PublicKey import RSA
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

signing = rsa.generate_private_key(public_exponent=65537, key_size=3072)
legacy = RSA.generate(2048)
curve = ec.generate_private_key(ec.SECP256R1())
edwards = ed25519.Ed25519PrivateKey.generate()


def make(bits):
    return RSA.generate(bits)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.qualified_names(node.func)
        for name in names:
            spec = _RSA_CALLS.get(name)
            if spec is not None:
                keyword, index, label = spec
                arg = argument(node, keyword, index=index)
                bits = int_value(arg.value, self.ctx) if arg is not None else None
                if arg is not None and bits is not None and bits < self.options.min_rsa_bits:
                    self._report(
                        arg, f"{label} key of {bits} bits; at least {self.options.min_rsa_bits}"
                    )
                return
            if name == _EC_CALL:
                curve = argument(node, "curve", index=0)
                if curve is not None:
                    value = curve.value
                    curve_name = terminal_name(value.func if isinstance(value, cst.Call) else value)
                    if curve_name in _WEAK_CURVES:
                        self._report(curve, f"elliptic curve {curve_name} is under 224 bits")
                return

    def _report(self, node: cst.CSTNode, message: str) -> None:
        report_by_place(self, node, message, help="use RSA-3072 or Ed25519/P-256")
