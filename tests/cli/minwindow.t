# minwindow golden table: args | stdin | expected stdout | expected exit [| stderr part]
# The problem's examples.
-t ABC | ADOBECODEBANC\n | BANC\n | 0
-t a | a\n | a\n | 0
-t aa | a\n | \n | 0
# One output line per input line; a final line without '\n' is a line; an
# empty line has no window.
-t ABC | ADOBECODEBANC\nxyz\n\nCAB | BANC\n\n\nCAB\n | 0
-t ab | abab\n | ab\n | 0
# Ties go to the leftmost window.
-t ab | xxbxaxxab\naxxbxxa\n | ab\naxxb\n | 0
-t aab | abab\nbaab\n | aba\nbaa\n | 0
# -n: offset and length; -1 0 when there is none.
-n -t ABC | ADOBECODEBANC\nxyz\n | 9 4\n-1 0\n | 0
-n -t a | a\n | 0 1\n | 0
# Files: mapped and scanned in place; several in order; gzip read through.
-t ABC tests/cli/data/mw-lines |  | BANC\n\n\n\nCBA\n | 0
-t ABC tests/cli/data/mw-lines.gz |  | BANC\n\n\n\nCBA\n | 0
-t ABC - tests/cli/data/mw-lines | CAB\n | CAB\nBANC\n\n\n\nCBA\n | 0
# T from a file, less one trailing newline (only one: "ab\n" then needs a
# newline, which no line has but -z input does).
-T tests/cli/data/mw-t-abc tests/cli/data/mw-lines |  | BANC\n\n\n\nCBA\n | 0
-T tests/cli/data/mw-t-nl | ab\nab\nb\n | \n\n\n | 0
-z -T tests/cli/data/mw-t-nl | ab\nab\nb\n | ab\n\n | 0
-z -T tests/cli/data/mw-t-nl | xa\nxxb\n | a\nxxb\n | 0
-T - tests/cli/data/mw-lines | ABC\n | BANC\n\n\n\nCBA\n | 0
# -z: the whole input is one string, newlines included.
-z -t ab | a\nb\n | a\nb\n | 0
-z -n -t ab | xa\n\nb\n | 1 4\n | 0
-z -t ab | a\n | \n | 0
-z -t ABC tests/cli/data/mw-lines |  | CBA\n | 0
-z -t ABCa tests/cli/data/mw-lines |  | BANC\na\n | 0
# \r is an ordinary byte: CRLF lines keep it.
-t $'a\r' | xa\r\nya\r\n | a\r\na\r\n | 0
-t a | xa\r\n | a\n | 0
# Byte mode: NUL, 0xFF and bytes of UTF-8 characters are plain bytes.
-T tests/cli/data/mw-t-binary tests/cli/data/mw-binary |  | \xff\x00\x00\n\n | 0
-n -T tests/cli/data/mw-t-binary tests/cli/data/mw-binary |  | 3 3\n-1 0\n | 0
-T tests/cli/data/mw-t-binary | x\x00y\xff\x00\x00\xff\x00\n\x00\xff | \xff\x00\x00\n\n | 0
-n -T tests/cli/data/mw-t-binary - | \x00\x00\n | -1 0\n | 0
-t $'\xff' | a\xffb\n | \xff\n | 0
-t $'\xc3\xa9' | x\xc3\xa8y\xa9\n | \xc3\xa8y\xa9\n | 0
# -u: code points; shortest counted in code points, offsets too.
-t ab | a\xe2\x82\xacb12a\n | b12a\n | 0
-u -t ab | a\xe2\x82\xacb12a\n | a\xe2\x82\xacb\n | 0
-n -t ab | a\xe2\x82\xacb12a\n | 4 4\n | 0
-u -n -t ab | a\xe2\x82\xacb12a\n | 0 3\n | 0
-t $'\xc3\xa9' | \xc3\xa8\xc2\xa9\n | \xc3\xa8\xc2\xa9\n | 0
-u -t $'\xc3\xa9' | \xc3\xa8\xc2\xa9\n | \n | 0
-u -t $'\xc3\xa9\xc3\xa9' tests/cli/data/mw-utf8 |  | \xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9\n\n | 0
-u -n -t $'\xf0\x9f\x98\x80\xf0\x9f\x98\x80a' tests/cli/data/mw-utf8 |  | -1 0\n2 4\n | 0
-u -n -t $'\xf0\x9f\x98\x80' tests/cli/data/mw-utf8 |  | -1 0\n0 1\n | 0
# Byte mode takes invalid UTF-8 as it is.
-t ab tests/cli/data/mw-bad-utf8 |  | ab\nab\nb a\nab\n | 0
# Bad input: invalid UTF-8 with -u, named by FILE:LINE and the byte offset
# in the line (in the whole input with -z); the rest of that file is
# skipped, other files are still read.
-u -t ab | ab\nx\xc3(b a\nab\n | ab\n | 1 | minwindow: (stdin):2: invalid UTF-8 at byte offset 1
-u -t ab tests/cli/data/mw-bad-utf8 |  | ab\nab\n | 1 | minwindow: tests/cli/data/mw-bad-utf8:3: invalid UTF-8 at byte offset 1
-u -t ab tests/cli/data/mw-bad-utf8 tests/cli/data/mw-lines |  | ab\nab\n\n\nab\n\n\n | 1 | mw-bad-utf8:3: invalid UTF-8 at byte offset 1
-u -z -t ab tests/cli/data/mw-bad-utf8 |  |  | 1 | minwindow: tests/cli/data/mw-bad-utf8:3: invalid UTF-8 at byte offset 7
-u -t ab | ab\xe2\x82 |  | 1 | (stdin):1: invalid UTF-8 at byte offset 2
-u -t ab | \xed\xa0\x80ab\n |  | 1 | offset 0
-u -t ab | ab\xc0\x80\n |  | 1 | offset 2
# ... and in T: a usage error from -t, a runtime error naming TFILE:LINE.
-u -t $'a\xff' | ab\n |  | 2 | minwindow: -t: invalid UTF-8 at byte offset 1
-u -T tests/cli/data/mw-t-bad-utf8 | ab\n |  | 1 | minwindow: tests/cli/data/mw-t-bad-utf8:3: invalid UTF-8 at byte offset 6
# Empty or missing T: usage errors.
-t '' | ab\n |  | 2 | minwindow: -t: the pattern T is empty
-T tests/cli/data/mw-t-empty | ab\n |  | 2 | the pattern T is empty
-T tests/cli/data/mw-t-newline-only | ab\n |  | 2 | the pattern T is empty
 | ab\n |  | 2 | no pattern: give -t T or -T TFILE
-t a -T tests/cli/data/mw-t-abc | a\n |  | 2 | -t and -T both give T
-T - | a\n |  | 2 | standard input cannot hold both T and the input
-T - tests/cli/data/mw-lines - | a\n |  | 2 | standard input cannot hold both T and the input
-t | a\n |  | 2 | Try 'minwindow --help' for more information.
-q -t a | a\n |  | 2 | invalid option -- 'q'
--bogus -t a | a\n |  | 2 | Try 'minwindow --help' for more information.
# Unreadable inputs: reported, the others still processed, exit 1.
-t a tests/cli/data/mw-no-such-file |  |  | 1 | minwindow: tests/cli/data/mw-no-such-file: No such file or directory
-t C tests/cli/data/mw-no-such-file tests/cli/data/mw-lines |  | C\n\n\n\nC\n | 1 | mw-no-such-file: No such file or directory
-t a tests/cli/data |  |  | 1 | tests/cli/data: is a directory
-T tests/cli/data/mw-no-such-file | a\n |  | 1 | mw-no-such-file: No such file or directory
-z -t a tests/cli/data/mw-no-such-file tests/cli/data/mw-lines |  | a\n | 1 | No such file or directory
# Help and version.
--version |  | minwindow (nnkit) 0.1.0\n | 0
-h |  | usage: minwindow -t T \x7c -T TFILE [-nuz] [FILE ...]\nPrints, for each input line, its shortest substring that holds every\ncharacter of T (with multiplicity); the leftmost on a tie; an empty\nline when there is none.\n  -t T        the characters to cover (must not be empty)\n  -T TFILE    read T from TFILE, less one trailing newline\n  -n          print "offset length" instead ("-1 0" for none)\n  -u          characters are UTF-8 code points, not bytes\n  -z          the whole input, newlines included, is one string\n  -h, --help  this help;  --version  the version\n | 0
--help |  | usage: minwindow -t T \x7c -T TFILE [-nuz] [FILE ...]\nPrints, for each input line, its shortest substring that holds every\ncharacter of T (with multiplicity); the leftmost on a tie; an empty\nline when there is none.\n  -t T        the characters to cover (must not be empty)\n  -T TFILE    read T from TFILE, less one trailing newline\n  -n          print "offset length" instead ("-1 0" for none)\n  -u          characters are UTF-8 code points, not bytes\n  -z          the whole input, newlines included, is one string\n  -h, --help  this help;  --version  the version\n | 0
