"""Gateway-like identifiers: random-looking, unique per row id, cheap to generate."""
from math import gcd

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE36 = BASE62[:36]  # digits and upper-case letters (PayPal's ids)
PAYER = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # PayPal payer ids: ^[2-9A-HJ-NP-Z]{13}$
_TO_PAYER = str.maketrans("01IO", "23JP")
_GOLDEN = (0.6180339887, 0.4142135623, 0.7320508075, 0.2360679774, 0.5772156649, 0.3819660112)
_CODERS = {}


def _coder(width, alphabet, salt):
    """(modulus, multiplier, digit pairs, number of pairs) of one kind of code, cached."""
    coder = _CODERS.get((width, alphabet, salt))
    if coder is None:
        modulus = len(alphabet) ** width
        multiplier = int(modulus * _GOLDEN[salt])
        while gcd(multiplier, modulus) != 1:
            multiplier += 1
        pairs = [first + second for first in alphabet for second in alphabet]
        coder = _CODERS[(width, alphabet, salt)] = (modulus, multiplier, pairs, len(pairs))
    return coder


def encode_id(number, width, alphabet, salt):
    """A random-looking code of `width` characters that is unique per id `number` (a bijection
    on 0..len(alphabet)**width); `salt` gives each kind of id its own look."""
    modulus, multiplier, pairs, base = _coder(width, alphabet, salt)
    top = modulus // base
    number = number * multiplier % modulus
    for _ in range(2):  # rotate the top pair of digits to the bottom and mix again
        number = (number % top * base + number // top) * multiplier % modulus
    out = []
    for _ in range(width // 2):
        number, digit = divmod(number, base)
        out.append(pairs[digit])
    if width % 2:
        out.append(alphabet[number])
    return "".join(out)


def payer_chars(text):
    """Random base-36 characters in the payer-id alphabet (0, 1, I, O never occur)."""
    return text.translate(_TO_PAYER)


class RandomSuffixes:
    """Random characters from pools drawn once: far cheaper per row than random.choices."""

    def __init__(self, rng, size=4096, length=8):
        self.rng = rng
        self.base62 = ["".join(rng.choices(BASE62, k=length)) for _ in range(size)]
        self.base36 = ["".join(rng.choices(BASE36, k=length)) for _ in range(size)]

    def take(self, pool, length):
        """`length` random characters (up to 16) of one pool."""
        bits = self.rng.getrandbits
        return (pool[bits(12)] + pool[bits(12)])[:length]
