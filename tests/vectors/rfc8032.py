"""Ed25519 signing as RFC 8032 section 6 gives it in Python, for the v1a vectors.

Independent of hookseal's Rust (ed25519-dalek) and of Node's crypto: the vectors' Ed25519
signatures come from here. Slow and not constant time, which is fine for writing test data and
nothing else. `self_test()` checks it against the RFC's own test vectors before any is used.
"""

import hashlib

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493  # the group order


def _inv(x):
    return pow(x, P - 2, P)


D = -121665 * _inv(121666) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    """Point addition in extended coordinates (X, Y, Z, T)."""
    e = (a[1] - a[0]) * (b[1] - b[0]) % P
    f = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    d = 2 * a[2] * b[2] % P
    e, f, g, h = f - e, d - c, d + c, f + e
    return (e * f, g * h, f * g, e * h)


def _mul(s, point):
    out = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            out = _add(out, point)
        point = _add(point, point)
        s >>= 1
    return out


def _recover_x(y, sign):
    x2 = (y * y - 1) * _inv(D * y * y + 1)
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * _inv(5) % P
_GX = _recover_x(_GY, 0)
G = (_GX, _GY, 1, _GX * _GY % P)


def _compress(point):
    zinv = _inv(point[2])
    x, y = point[0] * zinv % P, point[1] * zinv % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def _hash_mod_q(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % Q


def public_key(seed):
    """The 32-byte public key of a 32-byte secret seed."""
    return _compress(_mul(_expand(seed)[0], G))


def sign(seed, msg):
    """The 64-byte signature (R || S) of `msg` under the 32-byte secret seed."""
    a, prefix = _expand(seed)
    pub = _compress(_mul(a, G))
    r = _hash_mod_q(prefix + msg)
    big_r = _compress(_mul(r, G))
    s = (r + _hash_mod_q(big_r + pub + msg) * a) % Q
    return big_r + s.to_bytes(32, "little")


# RFC 8032 section 7.1, TEST 1 to 3: secret seed, public key, message, signature (hex).
RFC_TESTS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


def self_test():
    for seed, pub, msg, sig in RFC_TESTS:
        seed, msg = bytes.fromhex(seed), bytes.fromhex(msg)
        assert public_key(seed).hex() == pub, "RFC 8032 public key"
        assert sign(seed, msg).hex() == sig, "RFC 8032 signature"
