#!/usr/bin/env python3
"""nkw.py - read and write nnkit weight files (nnkit-wfile(5)) with numpy.

    import nkw
    f = nkw.load("model.nkw")          # validates magic, version, CRCs, layout
    f.meta["hidden"]                   # int, float, str, list of int or float
    f.tensors["lstm.0.w"]              # numpy array, read-only, 64-byte aligned
    nkw.save("out.nkw", {"program": "mine", "hidden": 128},
             {"lstm.0.w": w}, compress=False)

Run as a script, it lists each file's metadata and tensors, one per line:

    python3 scripts/nkw.py model.nkw

Needs numpy only (with zlib, struct, mmap from the standard library);
Python 3.9 or newer.  The C reader in lib/formats/wfile.c is the reference: both
accept exactly the same files, and an uncompressed file written here is
byte-identical to the one the C writer makes from the same content.
"""

import gzip
import math
import mmap
import os
import struct
import sys
import tempfile
import zlib

import numpy as np

MAGIC = b"NKWF"
VERSION = 1
ALIGN = 64
FIXED_SIZE = 48
HEADER_MAX = 1 << 28
MAX_META = 1 << 16
MAX_TENSORS = 1 << 24
NAME_MAX = 255
MAX_DIMS = 8
ZLIB_MAX_RATIO = 1032
FLAG_ZLIB = 1

# The file's dtype codes (enum nk_dtype in lib/core/tensor.h) and their numpy types.
DTYPES = ["f32", "i32", "u8", "f64", "i64", "i16"]
NUMPY = {"f32": "<f4", "i32": "<i4", "u8": "u1", "f64": "<f8", "i64": "<i8",
         "i16": "<i2"}
META_TYPES = ["int", "float", "str", "ints", "floats"]
INT, FLOAT, STR, INTS, FLOATS = range(5)
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

__all__ = ["load", "loads", "save", "dumps", "WeightFile", "NkwError"]


class NkwError(Exception):
    """A file that is not a valid weight file, or content that cannot be one."""


class WeightFile:
    """A file read by load(): .meta and .tensors are dicts in file order."""

    def __init__(self, name, compressed, meta, meta_types, tensors, dtypes,
                 raw_size, data_size):
        self.name = name
        self.compressed = compressed
        self.meta = meta
        self.meta_types = meta_types  # key -> "int", "float", "str", ...
        self.tensors = tensors
        self.dtypes = dtypes          # tensor name -> "f32", ...
        self.raw_size = raw_size      # bytes of tensor data with padding
        self.data_size = data_size    # bytes stored (compressed or not)

    def __repr__(self):
        return "<WeightFile %s: %d metadata, %d tensors>" % (
            self.name, len(self.meta), len(self.tensors))


def _align(n):
    return (n + ALIGN - 1) & ~(ALIGN - 1)


def _nbytes(dtype, shape):
    """Elements and bytes of a shape, or None: the product of the non-zero
    dimensions times the element size is below 2^63 (numpy's rule, and
    lib/formats/wfile.c's)."""
    size = math.prod(d for d in shape if d) * np.dtype(NUMPY[dtype]).itemsize
    if size > INT64_MAX:
        return None
    if 0 in shape:
        return 0, 0
    return size // np.dtype(NUMPY[dtype]).itemsize, size


class _Cursor:
    def __init__(self, buf, start, end, name):
        self.buf, self.p, self.end, self.name = buf, start, end, name

    def need(self, n, what):
        if self.end - self.p < n:
            raise NkwError("%s: header offset %d: %s runs past the end of "
                           "the header" % (self.name, self.p, what))

    def take(self, n, what):
        self.need(n, what)
        b = bytes(self.buf[self.p:self.p + n])
        self.p += n
        return b

    def u8(self, what):
        return self.take(1, what)[0]

    def u32(self, what):
        return struct.unpack("<I", self.take(4, what))[0]

    def name_(self, what):
        at = self.p
        n = self.u8(what)
        if n == 0:
            raise NkwError("%s: header offset %d: empty %s"
                           % (self.name, at, what))
        b = self.take(n, what)
        ctl = _control_byte(b)
        if ctl is not None:
            raise NkwError("%s: header offset %d: %s holds control byte "
                           "0x%02x" % (self.name, at + 1, what, ctl))
        return b.decode("utf-8", "surrogateescape")


def loads(buf, name="(memory)", check_crc=True):
    """Parses a weight file from a bytes-like object (kept, not copied)."""
    buf = memoryview(buf).cast("B")
    size = len(buf)
    if size >= 4 and bytes(buf[:4]) != MAGIC:
        raise NkwError("%s: not an nnkit weight file (no NKWF magic)" % name)
    if size < FIXED_SIZE:
        raise NkwError("%s: truncated: %d bytes, the fixed header alone is "
                       "%d" % (name, size, FIXED_SIZE))
    (version, flags, header_size, data_size, raw_size, n_meta, n_tensors,
     reserved, hcrc) = struct.unpack_from("<IIIQQIIII", buf, 4)
    if version > VERSION:
        raise NkwError("%s: written by a newer nnkit (format version %d, "
                       "this reads up to %d); upgrade nnkit"
                       % (name, version, VERSION))
    if version == 0:
        raise NkwError("%s: format version 0 does not exist (file damaged)"
                       % name)
    if check_crc and hcrc != zlib.crc32(buf[:44]):
        raise NkwError("%s: header CRC mismatch (file damaged)" % name)
    if flags & ~FLAG_ZLIB:
        raise NkwError("%s: unknown flags 0x%x" % (name, flags & ~FLAG_ZLIB))
    if reserved:
        raise NkwError("%s: reserved header field is not zero" % name)
    if (header_size < FIXED_SIZE or header_size % ALIGN
            or header_size > HEADER_MAX):
        raise NkwError("%s: header size %d is not a multiple of %d in "
                       "[64, %d]" % (name, header_size, ALIGN, HEADER_MAX))
    if size < header_size:
        raise NkwError("%s: truncated: header says it is %d bytes, file has "
                       "%d" % (name, header_size, size))
    avail = size - header_size
    if data_size > avail:
        raise NkwError("%s: truncated: header says %d bytes of data, file "
                       "has %d" % (name, data_size, avail))
    if avail - data_size < 4:
        raise NkwError("%s: truncated: the CRC after the data is cut short"
                       % name)
    if avail - data_size > 4:
        raise NkwError("%s: %d bytes of junk after the CRC (file damaged)"
                       % (name, avail - data_size - 4))
    end = header_size + data_size
    if check_crc and (struct.unpack_from("<I", buf, end)[0]
                      != zlib.crc32(buf[:end])):
        raise NkwError("%s: CRC mismatch (file damaged)" % name)
    compressed = bool(flags & FLAG_ZLIB)
    if not compressed and raw_size != data_size:
        raise NkwError("%s: uncompressed, yet %d bytes stored and %d raw"
                       % (name, data_size, raw_size))
    if compressed and (raw_size // ZLIB_MAX_RATIO > data_size
                       or raw_size > (1 << 63) - 1):
        raise NkwError("%s: %d compressed bytes cannot hold %d bytes of data"
                       % (name, data_size, raw_size))
    if (n_meta > MAX_META or n_tensors > MAX_TENSORS
            or n_meta * 7 + n_tensors * 12 > header_size - FIXED_SIZE):
        raise NkwError("%s: %d metadata entries and %d tensors cannot fit in "
                       "a %d-byte header"
                       % (name, n_meta, n_tensors, header_size))

    c = _Cursor(buf, FIXED_SIZE, header_size, name)
    meta, meta_types = {}, {}
    for _ in range(n_meta):
        at = c.p
        key = c.name_("metadata key")
        if key in meta:
            raise NkwError("%s: header offset %d: metadata key '%s' appears "
                           "twice" % (name, at, key))
        t = c.u8("metadata type")
        if t >= len(META_TYPES):
            raise NkwError("%s: metadata '%s': unknown type %d"
                           % (name, key, t))
        meta_types[key] = META_TYPES[t]
        if t == INT:
            meta[key] = struct.unpack("<q", c.take(8, "metadata value"))[0]
        elif t == FLOAT:
            meta[key] = struct.unpack("<d", c.take(8, "metadata value"))[0]
        else:
            n = c.u32("metadata length")
            if t == STR:
                b = c.take(n, "metadata value")
                if b"\0" in b:
                    raise NkwError("%s: metadata '%s': string holds a NUL "
                                   "byte" % (name, key))
                meta[key] = b.decode("utf-8", "surrogateescape")
            else:
                b = c.take(8 * n, "metadata value")
                meta[key] = list(struct.unpack("<%d%s" % (n, "q" if t == INTS
                                                           else "d"), b))
    entries = []
    seen = set()
    end = 0
    for _ in range(n_tensors):
        at = c.p
        tname = c.name_("tensor name")
        if tname in seen:
            raise NkwError("%s: header offset %d: tensor '%s' appears twice"
                           % (name, at, tname))
        seen.add(tname)
        c.need(2, "tensor dtype and rank")
        code, ndim = c.u8(""), c.u8("")
        if code >= len(DTYPES):
            raise NkwError("%s: tensor '%s': unknown dtype %d"
                           % (name, tname, code))
        if ndim > MAX_DIMS:
            raise NkwError("%s: tensor '%s': %d dimensions (at most %d)"
                           % (name, tname, ndim, MAX_DIMS))
        b = c.take(8 * ndim + 8, "tensor shape")
        vals = struct.unpack("<%dQ" % (ndim + 1), b)
        shape, offset = vals[:ndim], vals[ndim]
        dtype = DTYPES[code]
        sized = _nbytes(dtype, shape)
        if sized is None:
            raise NkwError("%s: tensor '%s': shape too large (2^63 bytes or "
                           "more)" % (name, tname))
        if offset != _align(end):
            raise NkwError("%s: tensor '%s': data offset %d, expected %d"
                           % (name, tname, offset, _align(end)))
        if sized[1] > raw_size - offset:
            raise NkwError("%s: tensor '%s': %d bytes at offset %d run past "
                           "the %d bytes of data"
                           % (name, tname, sized[1], offset, raw_size))
        end = offset + sized[1]
        entries.append((tname, dtype, shape, offset, sized[1]))
    pad = c.end - c.p
    if pad >= ALIGN or any(buf[c.p:c.end]):
        raise NkwError("%s: header offset %d: %d bytes after the last entry, "
                       "expected zero padding to a multiple of 64"
                       % (name, c.p, pad))
    if _align(end) != raw_size:
        raise NkwError("%s: tensors end at byte %d of the data, header says "
                       "%d" % (name, end, raw_size))

    stored = buf[header_size:header_size + data_size]
    if compressed:
        d = zlib.decompressobj()
        try:
            raw = d.decompress(stored, raw_size + 1)
        except zlib.error as e:
            # "Error -3 while decompressing data: incorrect header check":
            # keep zlib's own words, as the C reader does.
            why = str(e).split(": ", 1)[-1]
            if why.startswith("Error 2 "):  # Z_NEED_DICT
                why = "stream needs a preset dictionary"
            raise NkwError("%s: compressed data are damaged (%s)"
                           % (name, why)) from None
        if len(raw) > raw_size:
            raise NkwError("%s: compressed data inflate to more than the %d "
                           "bytes the header says" % (name, raw_size))
        if not d.eof:
            raise NkwError("%s: compressed data end early" % name)
        if len(raw) != raw_size:
            raise NkwError("%s: compressed data inflate to %d bytes, header "
                           "says %d" % (name, len(raw), raw_size))
        if d.unused_data:
            raise NkwError("%s: %d bytes after the end of the compressed data"
                           % (name, len(d.unused_data)))
        raw = memoryview(raw)
    else:
        raw = stored
    tensors, dtypes = {}, {}
    for tname, dtype, shape, offset, nbytes in entries:
        pad_end = _align(offset + nbytes)
        if any(raw[offset + nbytes:pad_end]):
            raise NkwError("%s: padding after tensor '%s' is not zero"
                           % (name, tname))
        if nbytes:
            a = np.frombuffer(raw, dtype=NUMPY[dtype],
                              count=nbytes // np.dtype(NUMPY[dtype]).itemsize,
                              offset=offset).reshape(shape)
        else:
            a = np.zeros(shape, dtype=NUMPY[dtype])
        a.flags.writeable = False
        tensors[tname] = a
        dtypes[tname] = dtype
    return WeightFile(name, compressed, meta, meta_types, tensors, dtypes,
                      raw_size, data_size)


def load(path, check_crc=True):
    """Reads and validates a weight file (a gzip'd one is unpacked first)."""
    with open(path, "rb") as f:
        try:
            buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # empty, or not mappable: read it
            buf = f.read()
    if bytes(buf[:2]) == b"\x1f\x8b":
        try:
            buf = gzip.decompress(buf)
        except (OSError, EOFError, zlib.error) as e:
            raise NkwError("%s: bad gzip data (%s)" % (path, e)) from None
    return loads(buf, str(path), check_crc)


def _meta_entry(key, value):
    k = _name_bytes(key, "metadata key")
    if isinstance(value, (bool, int, np.integer)):
        v = int(value)
        if not INT64_MIN <= v <= INT64_MAX:
            raise NkwError("metadata '%s': %d does not fit in int64"
                           % (key, v))
        return k + struct.pack("<Bq", INT, v)
    if isinstance(value, (float, np.floating)):
        return k + struct.pack("<Bd", FLOAT, float(value))
    if isinstance(value, str):
        b = value.encode("utf-8", "surrogateescape")
        if b"\0" in b:
            raise NkwError("metadata '%s': string holds a NUL byte" % key)
        return k + struct.pack("<BI", STR, len(b)) + b
    if isinstance(value, (list, tuple, np.ndarray)):
        vals = list(np.asarray(value).ravel()) if isinstance(
            value, np.ndarray) else list(value)
        if all(isinstance(v, (bool, int, np.integer)) for v in vals):
            vals = [int(v) for v in vals]
            if any(not INT64_MIN <= v <= INT64_MAX for v in vals):
                raise NkwError("metadata '%s': a value does not fit in int64"
                               % key)
            return k + struct.pack("<BI%dq" % len(vals), INTS, len(vals),
                                   *vals)
        if all(isinstance(v, (bool, int, float, np.integer, np.floating))
               for v in vals):
            return k + struct.pack("<BI%dd" % len(vals), FLOATS, len(vals),
                                   *[float(v) for v in vals])
    raise NkwError("metadata '%s': cannot store a %s (int, float, str, or a "
                   "list of int or float)" % (key, type(value).__name__))


def _control_byte(b):
    """The first byte below 0x20 or 0x7f in a name, or None."""
    for c in b:
        if c < 0x20 or c == 0x7F:
            return c
    return None


def _name_bytes(name, what):
    b = str(name).encode("utf-8", "surrogateescape")
    if not 1 <= len(b) <= NAME_MAX or _control_byte(b) is not None:
        raise NkwError("%s %r: names are 1 to %d bytes, no control "
                       "characters" % (what, name, NAME_MAX))
    return bytes([len(b)]) + b


def dumps(meta, tensors, compress=False):
    """The bytes of a weight file: meta is a dict of int, float, str or
    lists of them; tensors a dict of arrays of float32, float64, int32,
    int64, int16 or uint8 (no silent conversion), each at most 8-dimensional."""
    if len(meta) > MAX_META or len(tensors) > MAX_TENSORS:
        raise NkwError("too many metadata keys or tensors")
    head = [_meta_entry(k, v) for k, v in meta.items()]
    pieces, end = [], 0
    for name, a in tensors.items():
        a = np.asarray(a)
        dtype = {np.dtype(v).newbyteorder("<"): k for k, v in NUMPY.items()}
        dtype = dtype.get(a.dtype.newbyteorder("<"))
        if dtype is None:
            raise NkwError("tensor '%s': dtype %s is not one of %s"
                           % (name, a.dtype, ", ".join(
                               str(np.dtype(v)) for v in NUMPY.values())))
        if a.ndim > MAX_DIMS:
            raise NkwError("tensor '%s': %d dimensions (at most %d)"
                           % (name, a.ndim, MAX_DIMS))
        data = np.ascontiguousarray(a, dtype=NUMPY[dtype]).tobytes()
        offset = _align(end)
        head.append(_name_bytes(name, "tensor") +
                    struct.pack("<BB%dQQ" % a.ndim, DTYPES.index(dtype),
                                a.ndim, *a.shape, offset))
        pieces.append(b"\0" * (offset - end))
        pieces.append(data)
        end = offset + len(data)
    pieces.append(b"\0" * (_align(end) - end))
    raw = b"".join(pieces)
    data = zlib.compress(raw, 1) if compress else raw  # as lib/formats/wfile.c
    body = b"".join(head)
    header_size = _align(FIXED_SIZE + len(body))
    if FIXED_SIZE + len(body) > HEADER_MAX:
        raise NkwError("header of %d bytes is larger than the format allows"
                       % (FIXED_SIZE + len(body)))
    fixed = MAGIC + struct.pack("<IIIQQIII", VERSION,
                                FLAG_ZLIB if compress else 0, header_size,
                                len(data), len(raw), len(meta), len(tensors),
                                0)
    fixed += struct.pack("<I", zlib.crc32(fixed))
    out = (fixed + body + b"\0" * (header_size - FIXED_SIZE - len(body))
           + data)
    return out + struct.pack("<I", zlib.crc32(out))


def save(path, meta, tensors, compress=False):
    """Writes atomically: a temporary file beside `path`, fsync, rename."""
    out = dumps(meta, tensors, compress)
    path = os.fspath(path)
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path)
                               + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(out)
            f.flush()
            os.fsync(f.fileno())
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _show(v):
    if isinstance(v, list):
        return ",".join(repr(x) if isinstance(x, float) else str(x)
                        for x in v)
    if isinstance(v, float):
        return repr(v)
    return str(v).replace("\\", "\\\\").replace("\n", "\\n")


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        out = sys.stdout if len(argv) >= 2 else sys.stderr
        print("usage: nkw.py FILE...\n"
              "Lists each nnkit weight file's metadata and tensors:\n"
              "  FILE: format 1, N metadata, N tensors, N bytes of data[, "
              "N stored (zlib)]\n"
              "  meta KEY TYPE VALUE\n"
              "  tensor NAME DTYPE (SHAPE)", file=out)
        return 0 if len(argv) >= 2 else 2
    status = 0
    for path in argv[1:]:
        try:
            f = load(path)
        except (NkwError, OSError) as e:
            print("nkw.py: %s" % (e if isinstance(e, NkwError) else
                                  "%s: %s" % (path, e.strerror)),
                  file=sys.stderr)
            status = 1
            continue
        print("%s: format %d, %d metadata, %d tensors, %d bytes of data%s"
              % (path, VERSION, len(f.meta), len(f.tensors), f.raw_size,
                 ", %d stored (zlib)" % f.data_size if f.compressed else ""))
        for k, v in f.meta.items():
            print("meta %s %s %s" % (k, f.meta_types[k], _show(v)))
        for name, a in f.tensors.items():
            print("tensor %s %s (%s)" % (name, f.dtypes[name],
                                         ",".join(str(d) for d in a.shape)))
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
