"""BE514 weak-cipher: a broken cipher, ECB mode, or a constant IV/nonce."""

from __future__ import annotations

import libcst as cst

from be_lint.frameworks import keyword_arg
from be_lint.rule import Confidence, Example, PythonRule, RuleMeta, Severity
from be_lint.secrets import (
    argument,
    literal_string,
    report_by_place,
    resolve,
    terminal_name,
    test_path_options,
)

RATIONALE = """\
Encryption fails quietly: the code works, the data looks scrambled, and it is not protected.

- *Broken ciphers.* DES has a 56-bit key, found by brute force in hours; 3DES, Blowfish, IDEA
  and CAST have 64-bit blocks, so long sessions leak plaintext through block collisions
  (Sweet32); RC4 has biased output and is banned from TLS; RC2 and XOR "ciphers" are not
  encryption.
- *ECB mode* encrypts equal blocks to equal ciphertext, so the structure of the data shows
  through (the "ECB penguin"), and blocks can be cut and pasted between messages.
- *A constant IV or nonce* (`iv=b"0000000000000000"`) makes CBC leak equal prefixes and breaks
  CTR and GCM completely: two messages under the same key and nonce give away their XOR, and
  GCM's authentication key.

Reported: pycryptodome/pycrypto `Crypto.Cipher.DES/DES3/ARC2/ARC4/Blowfish/CAST/XOR.new(...)`
(and `Cryptodome.*`), pyDes; cryptography's `algorithms.TripleDES/ARC4/Blowfish/IDEA/CAST5/SEED`
(also under `hazmat.decrepit`) and `modes.ECB()`; `AES.new(key, AES.MODE_ECB)`; and an IV or
nonce given as a literal (directly or through a constant) to `AES.new(..., iv=/nonce=)`, to
cryptography's `modes.CBC/CTR/GCM/OFB/CFB(...)` or to `AESGCM(...).encrypt(nonce, ...)`.

Test code (`test-paths`) is reported with `test-severity`, off by default (known-answer tests
use fixed vectors on purpose).
"""

HOW_TO_FIX = """\
Use authenticated encryption with a fresh random nonce per message: cryptography's `Fernet`,
or `AESGCM(key).encrypt(os.urandom(12), data, aad)` (store the nonce with the ciphertext), or
ChaCha20-Poly1305. Decrypt legacy data with the old cipher once and re-encrypt it.
"""

_BROKEN = {
    "DES": "DES",
    "DES3": "3DES",
    "ARC2": "RC2",
    "ARC4": "RC4",
    "Blowfish": "Blowfish",
    "CAST": "CAST",
    "XOR": "XOR",
}
_BROKEN_CALLS = {
    f"{root}.Cipher.{name}.new": label
    for root in ("Crypto", "Cryptodome")
    for name, label in _BROKEN.items()
} | {"pyDes.des": "DES", "pyDes.triple_des": "3DES"}
_CRYPTOGRAPHY_BROKEN = {
    "TripleDES": "3DES",
    "ARC4": "RC4",
    "Blowfish": "Blowfish",
    "IDEA": "IDEA",
    "CAST5": "CAST5",
    "SEED": "SEED",
}
_ALGORITHM_MODULES = (
    "cryptography.hazmat.primitives.ciphers.algorithms.",
    "cryptography.hazmat.decrepit.ciphers.algorithms.",
)
_MODES = "cryptography.hazmat.primitives.ciphers.modes."
_IV_MODES = frozenset({"CBC", "CTR", "GCM", "OFB", "CFB", "CFB8"})
_AES_NEW = frozenset({"Crypto.Cipher.AES.new", "Cryptodome.Cipher.AES.new"})
_AEAD = frozenset({"AESGCM", "ChaCha20Poly1305", "AESCCM", "AESOCB3", "AESSIV", "AESGCMSIV"})

Options = test_path_options("off")


class WeakCipher(PythonRule):
    meta = RuleMeta(
        code="BE514",
        name="weak-cipher",
        summary="Broken cipher, ECB mode, or a constant IV/nonce",
        rationale=RATIONALE,
        how_to_fix=HOW_TO_FIX,
        severity=Severity.ERROR,
        confidence=Confidence.HIGH,
        cwe=327,
        owasp="A02:2021-Cryptographic Failures",
        references=(
            "https://cwe.mitre.org/data/definitions/327.html",
            "https://cwe.mitre.org/data/definitions/329.html",
            "https://cheatsheetseries.owasp.org/cheatsheets/Cryptographic_Storage_Cheat_Sheet.html",
            "https://sweet32.info/",
        ),
    )
    options_class = Options
    triggers = ("Crypto", "cryptography", "pyDes", "AESGCM", "ChaCha20Poly1305")

    bad = (
        Example(
            """\
from Crypto.Cipher import AES, DES, ARC4

IV = b"0123456789abcdef"


def seal(key, data):
    legacy = DES.new(key, DES.MODE_CBC)  # expect: BE514
    stream = ARC4.new(key)  # expect: BE514
    blocks = AES.new(key, AES.MODE_ECB)  # expect: BE514
    fixed = AES.new(key, AES.MODE_CBC, iv=IV)  # expect: BE514
    return legacy, stream, blocks, fixed
"""
        ),
        Example(
            """\
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def seal(key, data):
    c1 = Cipher(algorithms.TripleDES(key), modes.CBC(b"\\x00" * 8))  # expect: BE514
    c2 = Cipher(algorithms.AES(key), modes.ECB())  # expect: BE514
    sealed = AESGCM(key).encrypt(b"static-nonce", data, None)  # expect: BE514
    return c1, c2, sealed
"""
        ),
    )
    good = (
        Example(
            """\
import os

from Crypto.Cipher import AES
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def seal(key, data):
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, data, None)
    gcm = AES.new(key, AES.MODE_GCM)
    iv = os.urandom(16)
    cbc = Cipher(algorithms.AES(key), modes.CBC(iv))
    return nonce + sealed, gcm, cbc, Fernet(Fernet.generate_key()).encrypt(data)
"""
        ),
        Example(
            """\
from Crypto.Cipher import DES


def test_known_answer():
    assert DES.new(b"8bytekey", DES.MODE_ECB).encrypt(b"abcdefgh") == EXPECTED
""",
            filename="tests/test_des.py",
        ),
    )

    def _report(self, node: cst.CSTNode, message: str, help: str) -> None:
        report_by_place(self, node, message, help=help)

    def visit_Call(self, node: cst.Call) -> None:
        names = self.ctx.qualified_names(node.func)
        if not names:
            self._aead_encrypt(node)
            return
        for name in names:
            label = _BROKEN_CALLS.get(name)
            if label is None and name.startswith(_ALGORITHM_MODULES):
                label = _CRYPTOGRAPHY_BROKEN.get(name.rsplit(".", 1)[-1])
            if label is not None:
                self._report(
                    node,
                    f"{label} is a broken cipher",
                    "use AES-GCM or ChaCha20-Poly1305 (cryptography's AESGCM, or Fernet)",
                )
                return
            if name.startswith(_MODES):
                mode = name.rsplit(".", 1)[-1]
                if mode == "ECB":
                    self._ecb(node)
                elif mode in _IV_MODES:
                    iv = argument(node, "initialization_vector", "nonce", index=0)
                    if iv is not None:
                        self._constant_iv(iv.value, f"{mode} IV")
                return
            if name in _AES_NEW:
                self._aes_new(node)
                return
        self._aead_encrypt(node)

    def _ecb(self, node: cst.CSTNode) -> None:
        self._report(
            node,
            "ECB mode encrypts equal blocks to equal ciphertext: patterns show through",
            "use an authenticated mode (GCM) with a random nonce",
        )

    def _aes_new(self, node: cst.Call) -> None:
        mode_arg = argument(node, "mode", index=1)
        if mode_arg is not None and terminal_name(mode_arg.value) == "MODE_ECB":
            self._ecb(mode_arg)
            return
        for keyword in ("iv", "nonce"):
            arg = keyword_arg(node, keyword)
            if arg is not None:
                self._constant_iv(arg.value, keyword)

    def _aead_encrypt(self, node: cst.Call) -> None:
        """``AESGCM(key).encrypt(b"fixed", data, aad)``."""
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "encrypt"):
            return
        receiver = resolve(func.value, self.ctx) if isinstance(func.value, cst.Name) else func.value
        if not isinstance(receiver, cst.Call) or terminal_name(receiver.func) not in _AEAD:
            return
        nonce = argument(node, "nonce", index=0)
        if nonce is not None:
            self._constant_iv(nonce.value, "nonce")

    def _constant_iv(self, expr: cst.BaseExpression, what: str) -> None:
        value = resolve(expr, self.ctx) if isinstance(expr, cst.Name) else expr
        constant = literal_string(value) is not None or (
            isinstance(value, cst.BinaryOperation)
            and isinstance(value.operator, cst.Multiply)
            and literal_string(value.left) is not None
        )
        if constant:
            self._report(
                expr,
                f"constant {what}: every message under this key reuses it",
                "generate a fresh random IV/nonce per message (os.urandom) and store it with the "
                "ciphertext",
            )
