# pyramid golden cases: args | stdin | stdout | exit [| stderr part]
# Images are in tests/cli/data/pyr-*: a 4x3 RGB PNG, a 3x2 gray PGM, and
# broken files.  Pixel-exact comparisons with OpenCV are in
# tests/t_pyramid_opencv.sh; here: the summary, SPP values, the errors.
#
# The summary on stderr, one line per level.
-n 3 tests/cli/data/pyr-4x3.png |  |  | 0 | level 2: 1x1
tests/cli/data/pyr-4x3.png |  |  | 0 | level 1: 2x2
-q tests/cli/data/pyr-4x3.png |  |  | 0
gauss -n 2 tests/cli/data/pyr-3x2.pgm |  |  | 0 | level 1: 2x1
laplacian -n 2 tests/cli/data/pyr-4x3.png |  |  | 0 | level 1: 2x2
scale -F 0.5 -m 1 tests/cli/data/pyr-4x3.png |  |  | 0 | level 2: 1x1
scale -F 0.709 -m 3 tests/cli/data/pyr-4x3.png |  |  | 0 | level 0: 4x3
up tests/cli/data/pyr-3x2.pgm |  |  | 0 | up: 6x4
up -S 5x3 tests/cli/data/pyr-3x2.pgm |  |  | 0 | up: 5x3
# stdin, a 2x2 PGM
-n 2 - | P5\n2 2\n255\n\x00\x40\x80\xff |  | 0 | level 1: 1x1
# SPP: levels in order, each (C,n,n); 4x3 RGB, bins [0,2) [2,4) by [0,2) [1,3).
spp -l 2,1 tests/cli/data/pyr-4x3.png |  | 255 100 255 130 255 110 255 140 255 120 255 150 255 255 255\n | 0
spp -a -l 1 tests/cli/data/pyr-4x3.png tests/cli/data/pyr-3x2.pgm |  | 73.25 69.25 69.4166641\n82.5\n | 0
spp -a -l 1,2 - | P5\n2 2\n255\n\x00\x40\x80\xff | 111.75 0 64 128 255\n | 0
spp - | P5\n1 1\n255\n\x07 | 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7\n | 0
# one bad input among good ones: reported, the rest processed, exit 1
spp -l 1 tests/cli/data/pyr-3x2.pgm tests/cli/data/pyr-trunc.png tests/cli/data/pyr-3x2.pgm |  | 255\n255\n | 1 | pyr-trunc.png
spp -l 0 tests/cli/data/pyr-4x3.png |  |  | 2 | bins per side, not in [1, 64]
spp -l 4,x tests/cli/data/pyr-4x3.png |  |  | 2 | not a list of numbers
spp -l 1,1,1,1,1,1,1,1,1 tests/cli/data/pyr-4x3.png |  |  | 2 | at most 8 levels
# Bad images: named, exit 1.
tests/cli/data/pyr-trunc.png |  |  | 1 | pyr-trunc.png: truncated or corrupt png
tests/cli/data/pyr-zero.png |  |  | 1 | pyr-zero.png: zero-size image
tests/cli/data/pyr-huge.png |  |  | 1 | 100000x100000 image exceeds the limit of 32768
tests/cli/data/pyr-text.png |  |  | 1 | pyr-text.png: unsupported image format
tests/cli/data/pyr-psd.psd |  |  | 1 | unsupported image format (PSD)
tests/cli/data/no-such-file.png |  |  | 1 | no-such-file.png
- |  |  | 1 | (stdin): empty file
# Binary PNM must hold every pixel byte its header promises (stb read a
# short one from uninitialised memory); 16-bit and maxval < 255 are scaled.
-q -n 1 -o - - | P5\n2 2\n255\nab |  | 1 | (stdin): truncated pnm image: 2 of 4 pixel bytes missing
spp -l 2 - | P5\n2 2\n255\nab |  | 1 | 2 of 4 pixel bytes missing
spp - | P6\n2 2\n255\n |  | 1 | 12 of 12 pixel bytes missing
spp - | P6\n2 2\n255 |  | 1 | does not end with a blank after the maximum value
spp -l 1 - | P5\n2 1\n65535\n\x00\x00\xff |  | 1 | 1 of 4 pixel bytes missing
spp -l 1,2 - | P5\n2 1\n65535\n\x12\x34\xff\xff | 255 18 255 18 255\n | 0
spp -a -l 1 - | P5\n2 1\n15\n\x0f\x07 | 187\n | 0
spp - | P2\n1 1\n255\n7\n |  | 1 | convert it to binary P5/P6
# PNG through libpng: 16-bit cut to the high byte, a palette with tRNS
# expanded to RGBA (as stb did); a CRC error is refused (stb ignored it).
spp -l 2,1 tests/cli/data/pyr-16.png |  | 18 255 18 255 255\n | 0
spp -l 1 tests/cli/data/pyr-pal.png |  | 40 50 60 255\n | 0
tests/cli/data/pyr-badcrc.png |  |  | 1 | pyr-badcrc.png: truncated or corrupt png image (IDAT: CRC error)
# A JPEG cut short is refused (libjpeg would fill the rest with gray).
tests/cli/data/pyr-cut.jpg |  |  | 1 | pyr-cut.jpg: truncated jpeg image
--max-side 3 tests/cli/data/pyr-4x3.png |  |  | 1 | limit of 3 pixels per side
--max-pixels 11 tests/cli/data/pyr-4x3.png |  |  | 1 | more than the limit of 11
--max-side 0 tests/cli/data/pyr-4x3.png |  |  | 2 | --max-side
# Levels and factors out of range: usage errors (exit 2); a count the
# image cannot give is a runtime error (exit 1).
-n 4 tests/cli/data/pyr-4x3.png |  |  | 1 | pyr-4x3.png: 4 levels requested, but a 4x3 image has at most 3
-n 0 tests/cli/data/pyr-4x3.png |  |  | 2 | -n 0: levels not in [1, 32] (up to 256 for scale)
-n 33 tests/cli/data/pyr-4x3.png |  |  | 2 | levels not in [1, 32]
scale -n 257 tests/cli/data/pyr-4x3.png |  |  | 2 | -n 257: levels not in [1, 256]
laplacian -n 100 tests/cli/data/pyr-4x3.png |  |  | 2 | -n 100: levels not in [1, 32]
up -n 2 tests/cli/data/pyr-4x3.png |  |  | 2 | -n does not apply to up
-n two tests/cli/data/pyr-4x3.png |  |  | 2 | -n
scale -F 1.5 tests/cli/data/pyr-4x3.png |  |  | 2 | factor not in [0.1, 0.95]
scale -F 0.05 tests/cli/data/pyr-4x3.png |  |  | 2 | factor not in [0.1, 0.95]
scale -F half tests/cli/data/pyr-4x3.png |  |  | 2 | not a number
scale -n 3 -F 0.9 -m 3 tests/cli/data/pyr-4x3.png |  |  | 1 | 3 levels requested
scale -m 0 tests/cli/data/pyr-4x3.png |  |  | 2 | smallest side not in
up -S 10x6 tests/cli/data/pyr-4x3.png |  |  | 1 | not 10x6
up -S 9 tests/cli/data/pyr-4x3.png |  |  | 2 | not a size
# Outputs: several levels need %d; unknown extensions; binary to a file only.
-n 3 -o out.png tests/cli/data/pyr-4x3.png |  |  | 2 | several levels need a %d
-o out.png tests/cli/data/pyr-4x3.png |  |  | 2 | several levels need a %d
-Q 0 tests/cli/data/pyr-4x3.png |  |  | 2 | -Q
-n 2 -o out-%d-%d.png tests/cli/data/pyr-4x3.png |  |  | 2 | use one %d
-n 2 -o out-%s.png tests/cli/data/pyr-4x3.png |  |  | 2 | use one %d
-n 1 -o /nonexistent-dir/x.png tests/cli/data/pyr-4x3.png |  |  | 1 | /nonexistent-dir/x.png
-n 1 -o x.tiff tests/cli/data/pyr-4x3.png |  |  | 2 | unknown image type
-n 1 -M x.gif tests/cli/data/pyr-4x3.png |  |  | 2 | unknown image type
reconstruct tests/cli/data/pyr-4x3.png |  |  | 1 | pyr-4x3.png
a b |  |  | 2 | takes one image
