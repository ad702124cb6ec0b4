"""The builtin types at the Python-type level (str, bytes, list, tuple, dict,
slice), capsules, context variables, list/tuple builders and trackers
(tests/api-builtins), on every interpreter and mode: each wrapper with a
success case and, where it can fail, the exception CPython raises.
"""

import contextvars
import gc
import struct
import sys
import weakref

import pytest
from conftest import IS_PYPY, leak_check, raises_as_python
import hostile as H

PAYLOAD = b"api_builtins.Payload"
KINDS = ["list", "tuple"]
SEQ = {"list": list, "tuple": tuple}


def wide(*code_points):
    """Packs code points as the platform's wchar_t array."""
    fmt = "H" if sys.platform == "win32" else "i"
    return struct.pack(f"={len(code_points)}{fmt}", *code_points)


def collect():
    """Frees unreachable objects now (PyPy runs capsule destructors at a collection)."""
    for _ in range(3):
        gc.collect()


# --- bytes ------------------------------------------------------------------------


def test_new_bytes(api_builtins):
    assert api_builtins.new_bytes("héllo") == "héllo".encode()
    assert api_builtins.new_bytes("") == b""
    assert api_builtins.new_bytes("a\0b") == b"a\0b"
    assert api_builtins.new_bytes_from_c_str(b"abc") == b"abc"
    assert api_builtins.new_bytes_from_c_str(b"") == b""


def test_is_bytes(api_builtins):
    class B(bytes):
        pass

    assert api_builtins.is_bytes(b"x") is True
    assert api_builtins.is_bytes(B(b"x")) is True
    assert api_builtins.is_bytes("x") is False
    assert api_builtins.is_bytes(bytearray(b"x")) is False


def test_as_bytes(api_builtins):
    assert api_builtins.as_bytes(b"a\0b\xff") == b"a\0b\xff"
    assert api_builtins.as_bytes(b"") == b""
    with pytest.raises(TypeError, match=r"^expected bytes, got str$"):
        api_builtins.as_bytes("x")


def test_bytes_len(api_builtins):
    assert api_builtins.bytes_len(b"abc") == 3
    assert api_builtins.bytes_len(b"") == 0
    # PyPy's HPyBytes_Size would return len() of any sized object.
    with pytest.raises(TypeError, match=r"^expected bytes, got list$"):
        api_builtins.bytes_len([1, 2])


def test_bytes_as_c_str(api_builtins):
    assert api_builtins.bytes_as_c_str(b"abc") == b"abc"
    assert api_builtins.bytes_as_c_str(b"") == b""
    with pytest.raises(ValueError, match=r"^embedded null byte$"):
        api_builtins.bytes_as_c_str(b"a\0c")
    with pytest.raises(TypeError, match=r"^expected bytes, got int$"):
        api_builtins.bytes_as_c_str(1)


# --- str --------------------------------------------------------------------------


def test_new_str(api_builtins):
    for s in ["", "abc", "héllo wörld €😀", "a\0b", "x" * 1000]:
        assert api_builtins.new_str(s) == s


def test_str_data(api_builtins):
    import sys

    from conftest import ABI

    class S(str):
        pass

    cases = [("", "ascii"), ("abc\0", "ascii"), ("caf\xe9", "latin1"), ("\xff", "latin1"),
             ("\u0100", "ucs2"), ("日本\ud800x", "ucs2"), ("a😀", "ucs4"), ("\U0010ffff\udc00", "ucs4")]
    # Only a per-version CPython-ABI build sees CPython's representation (not
    # abi3, not 3.14, whose layout pyo3-ffi leaves out, nor a universal one).
    visible = ABI == "cpython" and sys.version_info < (3, 14)
    for text, kind in cases:
        for s in (text, S(text)):
            want = (kind, [ord(c) for c in text]) if visible else None
            assert api_builtins.str_data(s) == want, (text, type(s))
    for other in (b"abc", 1, None, ["a"]):
        assert api_builtins.str_data(other) is None

    Liar = H.StrLyingAboutText

    # The characters CPython stores, none of what the overrides say.
    for text, kind in cases:
        want = (kind, [ord(c) for c in text]) if visible else None
        assert api_builtins.str_data(Liar(text)) == want, text
    # new_str copies the real text (`&str` is read from the object, not
    # through its methods).
    t = api_builtins.new_str(Liar("日本 ok"))
    assert type(t) is str and str.__eq__(t, "日本 ok")


def test_new_str_every_kind(api_builtins):
    # Texts whose widest character needs each of CPython's four kinds (and
    # the edges between them), at every length up to 40 and position of the
    # widest character: the new str equals, hashes and finds dict entries as
    # the argument does (a str of a wider kind than its characters need
    # would compare unequal), and has the same size in memory.
    import sys

    widest = ["a", "\x7f", "\x80", "é", "\xff", "\u0100", "\u07ff", "\u0800", "日",
              "\uffff", "\U00010000", "😀", "\U0010ffff"]
    fillers = ["a", "é", "日"]
    for w in widest:
        for filler in fillers:
            for n in range(1, 41, 3):
                for i in range(0, n, 5):
                    s = filler * i + w + filler * (n - i - 1)
                    t = api_builtins.new_str(s)
                    assert t == s and hash(t) == hash(s), (w, filler, n, i)
                    assert {s: 1}[t] == 1
                    # (A fresh copy: `s` itself now caches its UTF-8; CPython
                    # shares its one-character strings, which may cache theirs;
                    # PyPy has no getsizeof.)
                    if n > 1 and not IS_PYPY:
                        assert sys.getsizeof(t) == sys.getsizeof((s + "x")[:-1]), (w, filler, n, i)
                    assert t.encode("utf-8", "surrogatepass") == s.encode("utf-8", "surrogatepass")


def test_new_str_long_mixed_text(api_builtins):
    # Long texts (a CPython-ABI build counts and copies them in blocks of 16
    # and 64 bytes): ASCII runs of every length between wider characters, at
    # every offset, for each kind.
    import random
    import sys

    rng = random.Random(393)
    for wide in ["é", "\u0100", "日", "😀"]:
        for run in list(range(0, 20)) + [31, 32, 33, 63, 64, 65, 200]:
            for lead in (0, 1, 7, 15):
                s = "x" * lead + ("a" * run + wide) * 3 + "z" * run
                t = api_builtins.new_str(s)
                assert t == s, (wide, run, lead)
                if not IS_PYPY:
                    assert sys.getsizeof(t) == sys.getsizeof((s + "x")[:-1]), (wide, run, lead)
    alphabet = ["a", "b", " ", "é", "日", "😀", "\x00"]
    for length in range(60, 400, 7):
        weights = [rng.random() ** 4 for _ in alphabet]
        s = "".join(rng.choices(alphabet, weights, k=length))
        assert api_builtins.new_str(s) == s


def test_new_str_from_c_str(api_builtins):
    assert api_builtins.new_str_from_c_str("café 😀".encode()) == "café 😀"
    assert api_builtins.new_str_from_c_str(b"") == ""
    with pytest.raises(
        UnicodeDecodeError, match=r"^'utf-8' codec can't decode byte 0xff in position 1: invalid start byte$"
    ):
        api_builtins.new_str_from_c_str(b"a\xff")


def test_new_str_from_wide(api_builtins):
    assert api_builtins.new_str_from_wide(wide(0x41, 0xE9, 0x20AC)) == "Aé€"
    assert api_builtins.new_str_from_wide(b"") == ""
    if sys.platform != "win32":
        assert api_builtins.new_str_from_wide(wide(0x1F600, 0)) == "😀\0"
        with pytest.raises(ValueError, match=r"^character U\+110000 is not in range \[U\+0000; U\+10ffff\]$"):
            api_builtins.new_str_from_wide(wide(0x41, 0x110000))


def test_decode_fs_default(api_builtins):
    # UTF-8 with surrogateescape on Linux: undecodable bytes become lone surrogates.
    assert api_builtins.decode_fs_default(b"caf\xc3\xa9") == "café"
    assert api_builtins.decode_fs_default(b"a\xffb") == "a\udcffb"
    assert api_builtins.decode_fs_default(b"a\0b") == "a\0b"
    assert api_builtins.decode_fs_default_c_str(b"a\xffb") == "a\udcffb"
    assert api_builtins.decode_fs_default_c_str(b"") == ""


def test_new_str_from_ascii(api_builtins):
    for text in ("", "a", "ok", "x" * 15, "y" * 16, "z" * 1000, "a\0b"):
        s = api_builtins.new_str_from_ascii(text.encode())
        assert type(s) is str and s == text and s.isascii()
        assert hash(s) == hash(text)  # a well-formed str: hashing reads its data
    # A byte from 0x80 on raises what `bytes.decode("ascii")` raises.
    with pytest.raises(
        UnicodeDecodeError,
        match=r"^'ascii' codec can't decode byte 0xe9 in position 1: ordinal not in range\(128\)$",
    ):
        api_builtins.new_str_from_ascii(b"a\xe9")
    with pytest.raises(UnicodeDecodeError, match=r"byte 0x80 in position 40"):
        api_builtins.new_str_from_ascii(b"a" * 40 + b"\x80")

    # A bytes subclass whose `__len__` lies: the bytes themselves are read.
    class Liar(bytes):
        def __len__(self):
            return 10**6

    assert api_builtins.new_str_from_ascii(Liar(b"plain")) == "plain"
    with pytest.raises(UnicodeDecodeError, match=r"byte 0xff in position 2"):
        api_builtins.new_str_from_ascii(Liar(b"ab\xff"))


def test_decode_ascii(api_builtins):
    assert api_builtins.decode_ascii(b"abc", None) == "abc"
    assert api_builtins.decode_ascii(b"a\xe9", "replace") == "a\ufffd"
    assert api_builtins.decode_ascii(b"a\xe9", "ignore") == "a"
    with pytest.raises(
        UnicodeDecodeError,
        match=r"^'ascii' codec can't decode byte 0xe9 in position 1: ordinal not in range\(128\)$",
    ):
        api_builtins.decode_ascii(b"a\xe9", None)
    if IS_PYPY:
        with pytest.raises(LookupError, match=r"unknown error handler name"):
            api_builtins.decode_ascii(b"a\xe9", "bogus")
    else:
        with pytest.raises(LookupError, match=r"^unknown error handler name 'bogus'$"):
            api_builtins.decode_ascii(b"a\xe9", "bogus")
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_builtins.decode_ascii(b"a", "str\0ct")


def test_decode_latin1(api_builtins):
    assert api_builtins.decode_latin1(b"a\xe9\xff", None) == "aé\xff"
    assert api_builtins.decode_latin1(b"", "strict") == ""


def test_is_str_and_as_str(api_builtins):
    class S(str):
        pass

    assert api_builtins.is_str("x") is True
    assert api_builtins.is_str(S("x")) is True
    assert api_builtins.is_str(b"x") is False
    assert api_builtins.as_str("héllo") == "héllo"
    with pytest.raises(TypeError, match=r"^expected str, got int$"):
        api_builtins.as_str(5)
    with pytest.raises(
        UnicodeEncodeError,
        match=r"^'utf-8' codec can't encode character '\\ud800' in position 1: surrogates not allowed$",
    ):
        api_builtins.as_str("a\ud800")


def test_encode(api_builtins):
    assert api_builtins.encode_utf8("é€") == "é€".encode()
    assert api_builtins.encode_ascii("abc") == b"abc"
    assert api_builtins.encode_latin1("aé\xff") == b"a\xe9\xff"
    assert api_builtins.encode_fs_default("a\udcffé") == b"a\xff\xc3\xa9"


def test_encode_errors(api_builtins):
    with pytest.raises(
        UnicodeEncodeError,
        match=r"^'utf-8' codec can't encode character '\\ud800' in position 0: surrogates not allowed$",
    ):
        api_builtins.encode_utf8("\ud800")
    with pytest.raises(
        UnicodeEncodeError,
        match=r"^'ascii' codec can't encode character '\\xe9' in position 1: ordinal not in range\(128\)$",
    ):
        api_builtins.encode_ascii("aé")
    latin1 = "latin1" if IS_PYPY else "latin-1"  # PyPy's codec spells its name so
    with pytest.raises(
        UnicodeEncodeError,
        match=rf"^'{latin1}' codec can't encode character '\\u20ac' in position 1: ordinal not in range\(256\)$",
    ):
        api_builtins.encode_latin1("a€")
    with pytest.raises(
        UnicodeEncodeError,
        match=r"^'utf-8' codec can't encode character '\\ud800' in position 0: surrogates not allowed$",
    ):
        api_builtins.encode_fs_default("\ud800")
    for encode in [api_builtins.encode_utf8, api_builtins.encode_ascii,
                   api_builtins.encode_latin1, api_builtins.encode_fs_default]:
        with pytest.raises(
            TypeError, match=r"^descriptor 'encode' for 'str' objects doesn't apply to a 'bytes' object$"
        ):
            encode(b"x")


def test_read_char(api_builtins):
    s = "héllo€😀"
    assert [api_builtins.read_char(s, i) for i in range(len(s))] == list(s)
    assert api_builtins.read_code_point(s, 6) == 0x1F600
    assert api_builtins.read_code_point("\ud800", 0) == 0xD800
    for i in [7, 100, 2**63, 2**64 - 1]:
        with pytest.raises(IndexError, match=r"^string index out of range$"):
            api_builtins.read_char(s, i)
    with pytest.raises(IndexError, match=r"^string index out of range$"):
        api_builtins.read_code_point("", 0)
    with pytest.raises(ValueError, match=r"^character U\+d800 at index 1 is a lone surrogate, not a Rust char$"):
        api_builtins.read_char("a\ud800", 1)
    with pytest.raises(TypeError, match=r"^expected str, got int$"):
        api_builtins.read_char(5, 0)


def test_substring(api_builtins):
    s = "héllo€"
    for start, end in [(0, 6), (1, 3), (0, 0), (2, 100), (3, 1), (7, 9), (0, 2**64 - 1), (2**63, 2**64 - 1)]:
        assert api_builtins.substring(s, start, end) == s[start:end], (start, end)
    with pytest.raises(TypeError, match=r"^expected str, got bytes$"):
        api_builtins.substring(b"abc", 0, 1)


def test_decode(api_builtins):
    assert api_builtins.decode(b"caf\xc3\xa9", None, None) == "café"
    assert api_builtins.decode(b"\xe9", "latin-1", None) == "é"
    assert api_builtins.decode(b"a\xff", "utf-8", "replace") == "a\ufffd"
    assert api_builtins.decode(b"a\xff", None, "ignore") == "a"
    # Any bytes-like object (PyPy's HPyUnicode_FromEncodedObject takes only bytes).
    assert api_builtins.decode(bytearray(b"ab"), None, None) == "ab"
    assert api_builtins.decode(memoryview(b"xyz"), "ascii", None) == "xyz"


def test_decode_errors(api_builtins):
    with pytest.raises(
        UnicodeDecodeError, match=r"^'utf-8' codec can't decode byte 0xff in position 0: invalid start byte$"
    ):
        api_builtins.decode(b"\xff", None, None)
    with pytest.raises(TypeError, match=r"^decoding str is not supported$"):
        api_builtins.decode("s", None, None)
    with pytest.raises(LookupError, match=r"^unknown encoding: bogus$"):
        api_builtins.decode(b"x", "bogus", None)
    if IS_PYPY:
        with pytest.raises(TypeError):
            api_builtins.decode(5, None, None)
    else:
        with pytest.raises(TypeError, match=r"^decoding to str: need a bytes-like object, int found$"):
            api_builtins.decode(5, None, None)


# --- list, tuple, dict ------------------------------------------------------------


def test_new_list_and_append(api_builtins):
    assert api_builtins.new_list() == []
    assert api_builtins.squares(6) == [0, 1, 4, 9, 16, 25]
    lst = [1]
    obj = object()
    assert api_builtins.append(lst, obj) is None
    assert lst == [1, obj] and lst[1] is obj

    class L(list):
        pass

    sub = L()
    api_builtins.append(sub, 2)
    assert sub == [2]


def test_append_errors(api_builtins):
    with pytest.raises(
        TypeError, match=r"^descriptor 'append' for 'list' objects doesn't apply to a 'tuple' object$"
    ):
        api_builtins.append((1,), 2)


def test_type_checks(api_builtins):
    class D(dict):
        pass

    assert api_builtins.is_list([]) and not api_builtins.is_list(())
    assert api_builtins.is_tuple(()) and not api_builtins.is_tuple([])
    assert api_builtins.is_dict({}) and api_builtins.is_dict(D())
    assert not api_builtins.is_dict([])
    assert api_builtins.is_slice(slice(1)) and not api_builtins.is_slice(range(1))


def test_new_tuple(api_builtins):
    obj = object()
    t = api_builtins.new_tuple3(1, "a", obj)
    assert t == (1, "a", obj) and t[2] is obj
    assert api_builtins.new_tuple_n(7, 0) == ()
    assert api_builtins.new_tuple_n(7, 16) == (7,) * 16
    assert api_builtins.new_tuple_n(7, 17) == (7,) * 17  # beyond the stack buffer
    assert api_builtins.new_tuple_n(None, 1000) == (None,) * 1000


def test_dict(api_builtins):
    assert api_builtins.new_dict() == {}
    d = {"a": 1, 2: "b", None: []}
    assert api_builtins.dict_keys(d) == ["a", 2, None]
    assert api_builtins.dict_keys({}) == []
    c = api_builtins.dict_copy(d)
    assert c == d and c is not d and c[None] is d[None]
    c["new"] = 1
    assert "new" not in d


def test_dict_items(api_builtins):
    d = {"a": 1, 2: "b", None: []}
    assert api_builtins.dict_items(d) == list(d.items())
    assert api_builtins.dict_items({}) == []
    with pytest.raises(TypeError, match=r"^descriptor 'items' for 'dict' objects doesn't apply to a 'list' object$"):
        api_builtins.dict_items([("a", 1)])


def test_dict_items_reads_a_subclass_own_entries(api_builtins):
    class Lying(dict):
        def __iter__(self):
            raise AssertionError("__iter__ called")

        def keys(self):
            raise AssertionError("keys called")

        def items(self):
            raise AssertionError("items called")

        def __getitem__(self, key):
            raise AssertionError("__getitem__ called")

        def __len__(self):
            # PyPy sizes `list(dict.items(d))` by this: 10**9 took 8 GB there,
            # sys.maxsize raises MemoryError. No size is taken from it.
            return sys.maxsize

    d = Lying(a=1, b=2)
    assert api_builtins.dict_items(d) == [("a", 1), ("b", 2)]


def test_dict_items_calls_no_key_eq(api_builtins):
    class Key:
        def __hash__(self):
            return 1

        def __eq__(self, other):
            raise AssertionError("__eq__ called")

    k1, k2 = Key(), Key()
    d = {}
    dict.__setitem__(d, k1, 1)  # the first key of its hash: no comparison yet
    assert api_builtins.dict_items(d) == [(k1, 1)]
    assert k2 is not k1


def test_dict_items_survives_changes_while_iterating(api_builtins):
    # Python code run between steps may add or remove entries: some are seen,
    # some not, never a crash or an error.
    d = {i: i for i in range(100)}

    def churn(key):
        if isinstance(key, int):
            d.pop(key + 1, None)
            d[("new", key)] = key

    seen = api_builtins.dict_items_calling(d, churn)
    assert 0 in seen and len(seen) <= 200
    d = {i: i for i in range(50)}
    assert api_builtins.dict_items_calling(d, lambda key: d.clear())[:1] == [0]


def test_str_writer(api_builtins):
    w = api_builtins.str_writer
    # ASCII, grown far past the first capacity, by both ways of finishing.
    for ascii in (False, True):
        s, n, cap = w(1, [(b"ab", 1), ord("c"), (b"0123456789", 50_000)], ascii)
        assert s == "abc" + "0123456789" * 50_000 and n == len(s) and cap >= n
        assert type(s) is str and s.isascii() and hash(s) == hash("abc" + "0123456789" * 50_000)
        assert s.encode() == s.encode("ascii")
    # From 1 MiB on the text is copied out of the buffer (CPython ABI).
    for ascii in (False, True):
        s, n, _ = w(64, [(b"0123456789abcdef", 1 << 17), ord("!")], ascii)
        assert n == len(s) == (1 << 21) + 1 and s == "0123456789abcdef" * (1 << 17) + "!"
    # Nothing written, or everything taken back: the empty str.
    for parts in ([], [(b"xyz", 100), ("truncate", 0)]):
        s, n, _ = w(0, parts, False)
        assert s == "" and n == 0 and type(s) is str
    # One character, and a capacity far above the text (shrunk at the end).
    assert w(1, [ord("x")], True)[0] == "x"
    assert w(100_000, [(b"hi", 1)], True)[:2] == ("hi", 2)
    # resize appends copies or cuts; truncate past the end does nothing.
    parts = [(b"abc", 1), ("resize", 6, ord("-")), ("truncate", 99), ("resize", 4, ord("?")), ord("!")]
    assert w(2, parts, False)[0] == "abc-!"
    # UTF-8 is decoded (copied); the ASCII check refuses it.
    text = "é日本😀"
    assert w(3, [(text.encode(), 1000)], False)[0] == text * 1000
    with pytest.raises(ValueError, match="^not ASCII$"):
        w(3, [(text.encode(), 1)], True)
    # Bytes that are not UTF-8 raise the error bytes.decode() raises.
    for bad in (b"a\xff", b"\xe6\x97", b"\xed\xa0\x80"):
        with raises_as_python(lambda: bad.decode()):
            w(1, [(bad, 1)], False)
    # Writes through the pointer, after one reserve.
    assert api_builtins.str_writer_raw("xy", 100_000) == "xy" * 100_000
    assert api_builtins.str_writer_raw("ü", 3) == "üüü"
    assert api_builtins.str_writer_raw("", 5) == ""


def test_str_writer_reserve(api_builtins):
    assert api_builtins.str_writer_reserve(0) >= 3
    assert api_builtins.str_writer_reserve(1 << 20) >= 3 + (1 << 20)
    # More than any allocator gives: MemoryError, never an abort.
    for n in (-1, (1 << 63) - 1, (1 << 62)):
        with pytest.raises(MemoryError):
            api_builtins.str_writer_reserve(n)


def test_is_exact_list_and_tuple(api_builtins):
    class L(list):
        pass

    class Disguised(list):
        # isinstance() believes this; the type is still a subclass.
        @property
        def __class__(self):
            return list

        def __len__(self):
            raise RuntimeError("__len__ called")

    assert isinstance(Disguised(), list) and Disguised().__class__ is list
    assert api_builtins.exactness(Disguised()) == (False, False, True, False)

    class T(tuple):
        pass

    class Meta(type):
        pass

    # A subclass is a list (or tuple), never an exact one; the types
    # themselves and objects of other types are neither.
    assert api_builtins.exactness([]) == (True, False, True, False)
    assert api_builtins.exactness(()) == (False, True, False, True)
    assert api_builtins.exactness(L([1])) == (False, False, True, False)
    assert api_builtins.exactness(T((1,))) == (False, False, False, True)
    for other in (list, tuple, {}, "ab", range(3), Meta("X", (), {})(), None):
        assert api_builtins.exactness(other) == (False, False, False, False), other


def test_is_exact_str(api_builtins):
    class S(str):
        pass

    class Disguised(str):
        # isinstance() believes this; the type is still a subclass.
        @property
        def __class__(self):
            return str

        def __eq__(self, other):
            raise RuntimeError("__eq__ called")

        __hash__ = str.__hash__

    assert isinstance(Disguised("a"), str) and Disguised("a").__class__ is str
    assert api_builtins.str_exactness(Disguised("a")) == (False, True)
    # Exact str of every storage kind and length; a subclass is a str,
    # never an exact one; the type itself and other objects are neither.
    for text in ("", "a", "é" * 40, "日本", "\U0001f600", "x" * 10_000):
        assert api_builtins.str_exactness(text) == (True, True), text
        assert api_builtins.str_exactness(S(text)) == (False, True), text
    for other in (str, S, b"ab", bytearray(b"ab"), ["a"], 1, None):
        assert api_builtins.str_exactness(other) == (False, False), other


def test_seq_item(api_builtins):
    lst, tup = [10, 20, 30], ("a", "b")
    assert [api_builtins.seq_item(lst, i) for i in range(3)] == lst
    assert api_builtins.seq_item(tup, 1) == "b"
    assert api_builtins.seq_item(range(5, 10), 2) == 7  # the sequence protocol
    with raises_as_python(lambda: lst[3]):
        api_builtins.seq_item(lst, 3)
    with raises_as_python(lambda: tup[5]):
        api_builtins.seq_item(tup, 5)

    class Sub(list):
        def __getitem__(self, i):
            return "override"

    # A subclass is no exact list: its __getitem__ answers, as for seq[i].
    assert api_builtins.seq_item(Sub([1]), 0) == "override"

    class Lying(list):
        def __len__(self):
            return 10**6

    # A lying __len__ sizes nothing: the real end is the end.
    with raises_as_python(lambda: Lying([1])[5]):
        api_builtins.seq_item(Lying([1]), 5)
    assert api_builtins.seq_item(Lying([1, 2]), 1) == 2
    with pytest.raises(TypeError):
        api_builtins.seq_item(5, 0)


def test_seq_item_borrowed(api_builtins):
    # The same answers as seq_item: a CPython-ABI build lends the items of
    # exact lists and tuples, anything else is read as seq_item reads it.
    lst, tup = [10, None, 30, None], ("a", None)
    assert [api_builtins.seq_item_borrowed(lst, i) for i in range(4)] == lst
    assert api_builtins.seq_item_borrowed(tup, 1) is None
    assert api_builtins.seq_item_borrowed(range(5, 10), 2) == 7
    assert api_builtins.count_none_borrowed(lst, 4) == 2
    assert api_builtins.count_none_borrowed(tup, 2) == 1
    with raises_as_python(lambda: lst[4]):
        api_builtins.count_none_borrowed(lst, 5)
    with raises_as_python(lambda: tup[2]):
        api_builtins.seq_item_borrowed(tup, 2)

    class Sub(list):
        def __getitem__(self, i):
            return None

    class Lying(list):
        def __len__(self):
            return 10**6

    assert api_builtins.count_none_borrowed(Sub([1, 2]), 2) == 2  # its __getitem__
    with raises_as_python(lambda: Lying([None])[1]):
        api_builtins.count_none_borrowed(Lying([None]), 2)
    with pytest.raises(TypeError):
        api_builtins.seq_item_borrowed(5, 0)
    # Items outlive the list once dup'ed.
    item = api_builtins.seq_item_borrowed([object()], 0)
    assert type(item) is object


def test_dict_next_borrowed(api_builtins):
    d = {"a": None, "b": 1, 3: None}
    assert api_builtins.none_value_keys_borrowed(d) == ["a", 3]
    assert api_builtins.none_value_keys_borrowed({}) == []

    class Lying(dict):
        def __iter__(self):
            raise AssertionError("__iter__ called")

        def items(self):
            raise AssertionError("items called")

    assert api_builtins.none_value_keys_borrowed(Lying(x=None, y=2)) == ["x"]
    with pytest.raises(TypeError, match=r"^descriptor 'items' for 'dict' objects doesn't apply to a 'list' object$"):
        api_builtins.none_value_keys_borrowed([("a", None)])


def test_dict_errors(api_builtins):
    with pytest.raises(TypeError, match=r"^descriptor 'keys' for 'dict' objects doesn't apply to a 'list' object$"):
        api_builtins.dict_keys([1])
    with pytest.raises(TypeError, match=r"^descriptor 'copy' for 'dict' objects doesn't apply to a 'int' object$"):
        api_builtins.dict_copy(5)


# --- slices -----------------------------------------------------------------------

MAX = sys.maxsize


@pytest.mark.parametrize(
    "s, expected",
    [
        (slice(1, 10, 2), (1, 10, 2)),
        (slice(None), (0, MAX, 1)),
        (slice(None, None, -1), (MAX, -MAX - 1, -1)),
        (slice(-3, None), (-3, MAX, 1)),
        (slice(10**30, -(10**30), -(10**30)), (MAX, -MAX - 1, -MAX)),
    ],
)
def test_slice_unpack(api_builtins, s, expected):
    assert api_builtins.slice_unpack(s) == expected


def test_slice_unpack_errors(api_builtins):
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        api_builtins.slice_unpack(slice(None, None, 0))
    with pytest.raises(
        TypeError, match=r"^slice indices must be integers or None or have an __index__ method$"
    ):
        api_builtins.slice_unpack(slice("a"))
    with pytest.raises(TypeError, match=r"^expected slice, got int$"):
        api_builtins.slice_unpack(5)


@pytest.mark.parametrize(
    "s",
    [slice(None), slice(None, None, -1), slice(-3, None), slice(1, 100, 3), slice(8, 2, -2),
     slice(-100, 100), slice(5, 1), slice(None, None, 10**30)],
)
@pytest.mark.parametrize("length", [0, 1, 5, 10])
def test_slice_indices(api_builtins, s, length):
    start, stop, step, count = api_builtins.slice_indices(s, length)
    py_start, py_stop, py_step = s.indices(length)
    assert (start, stop, step) == (py_start, py_stop, max(min(py_step, MAX), -MAX))  # steps are clamped
    assert count == len(range(length)[s])


def test_slice_indices_errors(api_builtins):
    with pytest.raises(ValueError, match=r"^slice step cannot be zero$"):
        api_builtins.slice_indices(slice(None, None, 0), 3)
    with pytest.raises(
        TypeError, match=r"^descriptor 'indices' for 'slice' objects doesn't apply to a 'int' object$"
    ):
        api_builtins.slice_indices(5, 3)


# --- builders ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [0, 1, 5, 128, 129, 1000])
def test_builder(api_builtins, kind, n):
    result = api_builtins.build(kind, n)
    assert type(result) is SEQ[kind]
    assert result == SEQ[kind](i * 10 for i in range(n))


@pytest.mark.parametrize("kind", KINDS)
def test_builder_unset_items_are_none(api_builtins, kind):
    assert api_builtins.build_partial(kind, 5, bytes([3, 1])) == SEQ[kind]([None, 1, None, 3, None])
    assert api_builtins.build_partial(kind, 3, b"") == SEQ[kind]([None] * 3)
    big = api_builtins.build_partial(kind, 300, bytes([0, 130, 255]))
    assert len(big) == 300 and big[0] == 0 and big[130] == 130 and big[255] == 255
    assert big.count(None) == 297


@pytest.mark.parametrize("kind", KINDS)
def test_builder_keeps_its_own_references(api_builtins, kind):
    obj = object()
    result = api_builtins.builder_sets(kind, 3, bytes([2, 0, 1]), obj, True)
    assert result == SEQ[kind]([obj] * 3) and all(x is obj for x in result)
    del result
    if not IS_PYPY:
        before = sys.getrefcount(obj)
        result = api_builtins.builder_sets(kind, 3, bytes([0, 1, 2]), obj, True)
        assert sys.getrefcount(obj) == before + 3
        del result
        assert sys.getrefcount(obj) == before


@pytest.mark.parametrize("kind", KINDS)
def test_builder_dropped_is_cancelled(api_builtins, kind):
    obj = object()
    # Dropped half-filled, and dropped empty: cancelled, releasing what was set.
    assert api_builtins.builder_sets(kind, 3, bytes([0, 2]), obj, False) is None
    assert api_builtins.builder_sets(kind, 3, b"", obj, False) is None
    assert api_builtins.builder_sets(kind, 300, bytes(range(200)), obj, False) is None
    if not IS_PYPY:
        before = sys.getrefcount(obj)
        api_builtins.builder_sets(kind, 3, bytes([0, 2]), obj, False)
        assert sys.getrefcount(obj) == before


class Weak:
    """An object a weak reference can watch."""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("build", [True, False], ids=["built", "cancelled"])
def test_builder_items_are_freed(api_builtins, kind, build):
    # Neither a built list or tuple (once dropped) nor a cancelled builder
    # keeps its items alive. PyPy's own builders stay in its handle table after
    # Build, keeping every item alive for good: the SDK does not use them there.
    obj = Weak()
    ref = weakref.ref(obj)
    result = api_builtins.builder_sets(kind, 300, bytes([0, 7, 255]), obj, build)
    assert (result is not None) == build
    del result, obj
    collect()
    assert ref() is None


def test_list_from(api_builtins):
    obj = Weak()
    ref = weakref.ref(obj)
    assert api_builtins.list_from([]) == []
    result = api_builtins.list_from([1, "a", obj, None])
    assert type(result) is list and result == [1, "a", obj, None]
    big = api_builtins.list_from(list(range(1000)))
    assert big == list(range(1000))
    del result, obj
    collect()
    assert ref() is None


@pytest.mark.parametrize("kind", KINDS)
def test_builder_index_out_of_range(api_builtins, kind):
    assert api_builtins.builder_set_at(kind, 2, 1) == SEQ[kind](["first", "item 1"])
    for i in [2, 3, 2**63, 2**64 - 1]:
        with pytest.raises(IndexError, match=rf"^{kind} assignment index out of range$"):
            api_builtins.builder_set_at(kind, 2, i)


@pytest.mark.parametrize("kind", KINDS)
def test_builder_item_set_twice(api_builtins, kind):
    with pytest.raises(ValueError, match=rf"^{kind} builder item 1 is already set$"):
        api_builtins.builder_sets(kind, 3, bytes([1, 1]), "x", True)
    with pytest.raises(ValueError, match=rf"^{kind} builder item 200 is already set$"):
        api_builtins.builder_sets(kind, 300, bytes([200, 7, 200]), "x", True)


@pytest.mark.parametrize("kind", KINDS)
def test_builder_error_in_conversion_cancels(api_builtins, kind):
    with pytest.raises(RuntimeError, match=r"^conversion failed$"):
        api_builtins.builder_conversion_error(kind)


@pytest.mark.parametrize("kind", KINDS)
def test_builder_too_long(api_builtins, kind):
    name = {"list": "ListBuilder", "tuple": "TupleBuilder"}[kind]
    assert api_builtins.builder_of_len(kind, 3) == f"{name} {{ len: 3, set: 0 }}"
    # Beyond what any runtime allocates (2**33 items is 64 GiB of pointers):
    # MemoryError, not a crash (PyPy's own builders do not report it).
    for n in [2**33, 2**40, 2**61, 2**64 - 1]:
        with pytest.raises(MemoryError):
            api_builtins.builder_of_len(kind, n)


# --- tracker ----------------------------------------------------------------------


@pytest.mark.parametrize("n, capacity", [(0, 0), (5, 0), (100, 0), (100, 3), (10, 1000)])
def test_tracker(api_builtins, n, capacity):
    assert api_builtins.tracker_squares(n, capacity) == [i * i for i in range(n)]


def test_tracker_closes_on_error(api_builtins):
    for n in [0, 1, 50]:
        with pytest.raises(ValueError, match=rf"^failed after {n} handles$"):
            api_builtins.tracker_error(n)


def test_tracker_forget_all(api_builtins):
    assert api_builtins.tracker_forget(0) == 0
    assert api_builtins.tracker_forget(10) == 45


def test_tracker_too_large(api_builtins):
    assert api_builtins.tracker_of_capacity(10) == "Tracker { .. }"
    for n in [2**33, 2**40, 2**61, 2**64 - 1]:
        with pytest.raises(MemoryError):
            api_builtins.tracker_of_capacity(n)


# --- capsules ---------------------------------------------------------------------


def test_capsule_roundtrip(api_builtins):
    cap = api_builtins.new_capsule(42, False)
    assert type(cap).__name__ in ("PyCapsule", "capsule")
    assert api_builtins.capsule_value(cap, PAYLOAD) == 42
    assert api_builtins.capsule_name(cap) == PAYLOAD.decode()
    assert api_builtins.is_capsule(cap, PAYLOAD) is True
    assert api_builtins.is_capsule(cap, b"other") is False
    assert api_builtins.is_capsule(5, PAYLOAD) is False
    s = api_builtins.new_string_capsule("hello")
    assert api_builtins.capsule_string(s) == "hello"


def test_capsule_errors(api_builtins):
    cap = api_builtins.new_capsule(1, False)
    with pytest.raises(ValueError, match=r"^PyCapsule_GetPointer called with incorrect name$"):
        api_builtins.capsule_value(cap, b"api_builtins.Other")
    with pytest.raises(ValueError, match=r"^PyCapsule_GetPointer called with invalid PyCapsule object$"):
        api_builtins.capsule_value(5, PAYLOAD)
    with pytest.raises(ValueError, match=r"^PyCapsule_GetName called with invalid PyCapsule object$"):
        api_builtins.capsule_name("not a capsule")


def test_capsule_of_another_type(api_builtins):
    cap = api_builtins.new_capsule(1, False)
    s = api_builtins.new_string_capsule("hi")
    with pytest.raises(
        TypeError,
        match=r"^capsule 'api_builtins.Payload' holds a `api_builtins::Payload`, not a `alloc::string::String`$",
    ):
        api_builtins.capsule_string(cap)
    with pytest.raises(
        TypeError,
        match=r"^capsule 'api_builtins.Payload' holds a `alloc::string::String`, not a `api_builtins::Payload`$",
    ):
        api_builtins.capsule_value(s, PAYLOAD)


FOREIGN = r"^capsule '{}' was not made by this extension's new_capsule: it does not hold a `api_builtins::Payload`$"


def test_capsule_made_with_the_raw_api_is_refused(api_builtins):
    raw = api_builtins.new_raw_capsule()  # same name, a pointer to a static i64
    assert api_builtins.capsule_name(raw) == PAYLOAD.decode()
    with pytest.raises(TypeError, match=FOREIGN.format("api_builtins.Payload")):
        api_builtins.capsule_value(raw, PAYLOAD)


def test_capsule_from_another_binary_is_refused(api_builtins, loader, mode):
    # The same module loaded from another file (another mode, or a copy) is
    # another binary.
    other = loader.load_another_binary("api_builtins", mode)
    with leak_check(mode):
        cap = other.new_capsule(5, False)
        assert other.capsule_value(cap, PAYLOAD) == 5
        with pytest.raises(TypeError, match=FOREIGN.format("api_builtins.Payload")):
            api_builtins.capsule_value(cap, PAYLOAD)
        del cap


@pytest.mark.skipif(not hasattr(__import__("datetime"), "datetime_CAPI"), reason="no datetime capsule")
def test_capsule_of_cpython_is_refused(api_builtins):
    import datetime

    assert api_builtins.capsule_name(datetime.datetime_CAPI) == "datetime.datetime_CAPI"
    assert api_builtins.is_capsule(datetime.datetime_CAPI, b"datetime.datetime_CAPI")
    with pytest.raises(TypeError, match=FOREIGN.format("datetime.datetime_CAPI")):
        api_builtins.capsule_value(datetime.datetime_CAPI, b"datetime.datetime_CAPI")


def test_capsule_destructor_drops_the_value(api_builtins):
    collect()
    before = api_builtins.capsule_drops()
    caps = [api_builtins.new_capsule(i, False) for i in range(10)]
    assert [api_builtins.capsule_value(c, PAYLOAD) for c in caps] == list(range(10))
    assert api_builtins.capsule_drops() == before
    del caps
    collect()
    assert api_builtins.capsule_drops() == before + 10


def test_capsule_destructor_panic_does_not_unwind(api_builtins, capfd):
    collect()
    before = api_builtins.capsule_drops()
    cap = api_builtins.new_capsule(7, True)
    del cap
    collect()
    assert api_builtins.capsule_drops() == before + 1
    assert "Payload(7) panicked in Drop" in capfd.readouterr().err
    # The interpreter goes on.
    assert api_builtins.capsule_value(api_builtins.new_capsule(8, False), PAYLOAD) == 8


# --- context variables ------------------------------------------------------------


def test_context_var_new(api_builtins):
    v = api_builtins.new_context_var("v", None)
    assert type(v) is contextvars.ContextVar and v.name == "v"
    w = api_builtins.new_context_var("wé", 3)
    assert w.name == "wé" and w.get() == 3
    with pytest.raises(ValueError, match=r"^embedded null character$"):
        api_builtins.new_context_var("a\0b", None)


def test_context_var_get_and_set(api_builtins):
    v = api_builtins.new_context_var("v", None)
    d = api_builtins.new_context_var("d", "default")
    assert api_builtins.context_var_get(v, 5) == 5
    assert api_builtins.context_var_try_get(v) is None
    assert api_builtins.context_var_get(d, None) == "default"
    assert api_builtins.context_var_get(d, "given") == "given"

    def inner():
        token = api_builtins.context_var_set(v, "value")
        assert type(token) is contextvars.Token and token.var is v
        assert api_builtins.context_var_get(v, None) == "value"
        assert api_builtins.context_var_get(v, 5) == "value"
        assert v.get() == "value"
        v.reset(token)
        assert api_builtins.context_var_try_get(v) is None

    contextvars.copy_context().run(inner)
    assert api_builtins.context_var_try_get(v) is None


def test_context_var_get_unset_raises_lookup_error(api_builtins):
    v = api_builtins.new_context_var("v", None)
    with pytest.raises(LookupError) as info:
        api_builtins.context_var_get(v, None)
    assert info.value.args == (v,)  # as CPython's ContextVar.get raises it
    if not IS_PYPY:  # PyPy's own ContextVar.get raises LookupError() without the variable
        with pytest.raises(LookupError) as python_info:
            v.get()
        assert python_info.value.args == info.value.args


def test_context_var_errors(api_builtins):
    with pytest.raises(TypeError, match=r"^an instance of ContextVar was expected$"):
        api_builtins.context_var_get(5, None)
    with pytest.raises(TypeError, match=r"^an instance of ContextVar was expected$"):
        api_builtins.context_var_try_get("v")
    with pytest.raises(TypeError, match=r"^an instance of ContextVar was expected$"):
        api_builtins.context_var_set(5, 1)


# --- PyPy: debug mode smoke test --------------------------------------------------


@pytest.mark.skipif(not IS_PYPY, reason="CPython runs every test in debug and trace mode")
@pytest.mark.parametrize("other_mode", ["debug", "trace"])
def test_pypy_debug_and_trace_mode_smoke(loader, other_mode):
    m = loader.load("api_builtins", other_mode)
    with leak_check(other_mode):
        assert m.build("list", 3) == [0, 10, 20]
        assert m.build_partial("tuple", 3, bytes([1])) == (None, 1, None)
        assert m.builder_sets("list", 3, bytes([0]), "x", False) is None
        assert m.tracker_squares(20, 0) == [i * i for i in range(20)]
        assert m.tracker_forget(5) == 10
        cap = m.new_capsule(3, False)
        assert m.capsule_value(cap, PAYLOAD) == 3
        v = m.new_context_var("v", 1)
        assert m.context_var_get(v, None) == 1
        assert m.dict_keys({"a": 1}) == ["a"]
        assert m.slice_indices(slice(None, None, -1), 3) == (2, -1, -1, 3)
        assert m.substring("hello", 1, 3) == "el"
        assert m.decode(b"ab", None, None) == "ab"
        with pytest.raises(LookupError):
            m.context_var_get(m.new_context_var("w", None), None)
        assert m.is_capsule(cap, PAYLOAD) and m.capsule_name(cap) == PAYLOAD.decode()
        assert m.slice_unpack(slice(1, 2)) == (1, 2, 1)
        assert m.dict_copy({"b": 2}) == {"b": 2}
        assert m.context_var_try_get(m.new_context_var("x", None)) is None
        del cap
    collect()
