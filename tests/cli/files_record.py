#!/usr/bin/env python3
"""Rewrites the --files archive of a lockrun record (format 4, SPEC §5 :out), for the tests
that forge records. The layout (little-endian): "LKRN", version u8, exit code i32, created
i64, duration i64, host (u64 length + bytes), fence u64, output kind u8 (0: u32 chunk count,
then per chunk a stream u8 and u64 length + bytes; 1: u64 size, u64 length + zstd frame),
then the files: u32 path count, each path (u64 length + bytes), and when there are paths the
archive's u64 size and u64 length + zstd frame.

    files_record.py RECORD TAR OUT   the record with TAR (a tar file) as its archive
"""
import struct
import subprocess
import sys


def files_section_offset(record: bytes) -> int:
    assert record[:4] == b"LKRN" and record[4] == 4, "not a format-4 record"
    at = 5 + 4 + 8 + 8
    (host,) = struct.unpack_from("<Q", record, at)
    at += 8 + host + 8
    kind = record[at]
    at += 1
    if kind == 0:
        (chunks,) = struct.unpack_from("<I", record, at)
        at += 4
        for _ in range(chunks):
            (size,) = struct.unpack_from("<Q", record, at + 1)
            at += 1 + 8 + size
    else:
        (size,) = struct.unpack_from("<Q", record, at + 8)
        at += 16 + size
    return at


def main() -> None:
    record_path, tar_path, out_path = sys.argv[1:4]
    record = open(record_path, "rb").read()
    at = files_section_offset(record)
    (paths,) = struct.unpack_from("<I", record, at)
    assert paths > 0, "the record has no --files"
    end = at + 4
    for _ in range(paths):
        (size,) = struct.unpack_from("<Q", record, end)
        end += 8 + size
    tar = open(tar_path, "rb").read()
    frame = subprocess.run(["zstd", "-q", "-c", "--check", "--zstd=wlog=19"], input=tar, check=True,
                           stdout=subprocess.PIPE).stdout
    out = record[:end] + struct.pack("<QQ", len(tar), len(frame)) + frame
    open(out_path, "wb").write(out)


if __name__ == "__main__":
    main()
