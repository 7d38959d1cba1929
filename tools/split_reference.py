#!/usr/bin/env python3
"""Reference values for `crates/data/src/split.rs` (the paper's album split).

The album split of Nasrullah & Zhao (2019), reused unchanged by the FGNL authors
(`src/utility.py`, `load_dataset_album_split`), is:

    random.seed(random_state)
    for artist in <artist folders>:
        albums = <album folders of artist>
        random.shuffle(albums)
        test  <- albums.pop(0)
        val   <- albums.pop(0)
        train <- the rest

with ONE `random.seed` before the loop, so the Mersenne Twister stream runs on
from one artist to the next. The authors listed folders with `os.listdir`; here
both levels are sorted (singerid's documented order).

This script prints, for seeds 0, 21 and 42:
  1. the first raw 32-bit outputs of CPython's MT19937 (`getrandbits(32)`),
     also for one seed above 2**32, and wider `getrandbits(k)` for k > 32;
  2. `random.shuffle(list(range(n)))` for n = 0..12, drawn one after another
     from one seeded stream;
  3. the album split of a small synthetic catalogue (names chosen to exercise
     sorting: mixed case, underscores, digits), with names in Python's
     `sorted()` order (code points), and for seed 42 also in case-folded order
     (`sorted(key=lambda s: (s.upper(), s))`, the order NTFS keeps a folder in,
     which is what `os.listdir` returns on Windows).

Run: `python3 tools/split_reference.py` (written with CPython 3.11.7; the
algorithms used, `random.seed(int)`, `getrandbits` and `shuffle`, are unchanged
since Python 3.2).
"""
import random
import sys

SEEDS = [0, 21, 42]
# A seed above 2**32 exercises the two-word key of `random.seed(int)`.
BIG_SEED = 2**40 + 5

# Synthetic catalogue: artist -> albums (deliberately unsorted here).
CATALOGUE = {
    "u2": ["The_Joshua_Tree", "Achtung_Baby", "Boy", "October", "War", "Zooropa"],
    "aerosmith": ["Pump", "Get_A_Grip", "Aerosmith", "Toys_in_the_Attic", "Rocks", "Nine_Lives"],
    "beatles": ["Abbey_Road", "Help_", "Let_It_Be", "Revolver", "Rubber_Soul", "A_Hard_Day_s_Night"],
    "queen": ["A_Night_at_the_Opera", "A_Kind_of_Magic", "Innuendo", "Jazz", "News_of_the_World", "The_Game"],
    "tori_amos": ["Little_Earthquakes", "Boys_for_Pele", "from_the_choirgirl_hotel", "To_Venus_and_Back", "Scarlet_s_Walk", "B_sides"],
    "cure": ["Disintegration", "Wish", "Bloodflowers", "Pornography"],
    "prince": ["1999", "Purple_Rain", "Sign_O_The_Times"],
}


def main() -> None:
    print(f"# python {sys.version.split()[0]}")
    for seed in SEEDS + [BIG_SEED]:
        random.seed(seed)
        words = [random.getrandbits(32) for _ in range(8)]
        print(f"seed {seed} getrandbits(32) x8: {words}")
    # Wider draws (several 32-bit words), used by shuffles of more than 2**32 items only.
    random.seed(5)
    wide = [random.getrandbits(40), random.getrandbits(64), random.getrandbits(33)]
    print(f"seed 5 getrandbits(40), (64), (33): {wide}")
    for seed in SEEDS:
        random.seed(seed)
        out = []
        for n in range(13):
            xs = list(range(n))
            random.shuffle(xs)
            out.append(xs)
        print(f"seed {seed} shuffles n=0..12: {out}")
    for seed in SEEDS:
        print_album_split(seed, sorted, "code point")
    print_album_split(42, lambda names: sorted(names, key=lambda s: (s.upper(), s)), "case-folded")
    # A one-artist catalogue: the shuffle is the first draw after seeding.
    random.seed(42)
    albums = sorted(CATALOGUE["prince"])
    random.shuffle(albums)
    print(f"seed 42, prince alone: test {albums[0]}, val {albums[1]}, train {albums[2:]}")


def print_album_split(seed, order, order_name) -> None:
    random.seed(seed)
    rows = []
    for artist in order(CATALOGUE):
        albums = order(CATALOGUE[artist])
        random.shuffle(albums)
        rows.append((artist, albums.pop(0), "test"))
        rows.append((artist, albums.pop(0), "val"))
        rows.extend((artist, album, "train") for album in albums)
    print(f"seed {seed} album split, {order_name} order:")
    for artist, album, split in rows:
        print(f"    {artist},{album},{split}")


if __name__ == "__main__":
    main()
