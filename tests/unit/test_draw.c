/* test_draw.c - rectangles, text and labels checked pixel by pixel:
 * corners, thickness, clipping at every edge, glyph dots inside the
 * label, class colours worked by hand from darknet's get_color.  The
 * comparison with darknet's draw_box_width and get_color themselves is
 * tests/t_letterbox_darknet.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/base.h"
#include "vision/draw.h"

static const nk_rgb RED = { 255, 0, 0 };

static int is(const nk_image *im, int x, int y, nk_rgb c)
{
	const unsigned char *p = im->data + ((size_t)y * im->w + x) * im->c;
	return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

/* Pixels that are not black. */
static int painted(const nk_image *im)
{
	int n = 0;
	for (int i = 0; i < im->w * im->h; i++) {
		const unsigned char *p = im->data + (size_t)i * im->c;
		n += p[0] || p[1] || p[2];
	}
	return n;
}

static void clear(nk_image *im)
{
	memset(im->data, 0, nk_image_bytes(im));
}

TEST(rect_corners_thickness)
{
	nk_image im;
	CHECK(nk_image_alloc(&im, 20, 20, 3) == NK_OK);
	CHECK(nk_draw_rect(&im, 2, 3, 10, 12, 2, RED) == NK_OK);
	CHECK(is(&im, 2, 3, RED) && is(&im, 10, 3, RED));
	CHECK(is(&im, 2, 12, RED) && is(&im, 10, 12, RED));
	CHECK(is(&im, 3, 4, RED) && is(&im, 9, 11, RED)); /* second ring */
	CHECK(!is(&im, 4, 5, RED)); /* inside */
	CHECK(!is(&im, 1, 3, RED) && !is(&im, 11, 3, RED) && !is(&im, 2, 2, RED));
	/* 9 x 10 less the 5 x 6 inside */
	CHECK(painted(&im) == 90 - 30);
	/* corners in the other order: the same pixels */
	unsigned char *copy = malloc(nk_image_bytes(&im));
	memcpy(copy, im.data, nk_image_bytes(&im));
	clear(&im);
	nk_draw_rect(&im, 10, 12, 2, 3, 2, RED);
	CHECK(memcmp(copy, im.data, nk_image_bytes(&im)) == 0);
	free(copy);
	/* thicker than half the box: filled */
	clear(&im);
	nk_draw_rect(&im, 0, 0, 4, 4, 3, RED);
	CHECK(painted(&im) == 25);
	/* t < 1 draws nothing */
	clear(&im);
	nk_draw_rect(&im, 0, 0, 4, 4, 0, RED);
	CHECK(painted(&im) == 0);
	nk_image_free(&im);
}

TEST(rect_clipping)
{
	nk_image im;
	CHECK(nk_image_alloc(&im, 20, 20, 3) == NK_OK);
	/* Over the top-left corner: only the right column x = 5 and the
	 * bottom row y = 5 are in the image, 6 + 6 - 1 pixels. */
	nk_draw_rect(&im, -5, -5, 5, 5, 1, RED);
	CHECK(painted(&im) == 11);
	CHECK(is(&im, 5, 0, RED) && is(&im, 0, 5, RED) && !is(&im, 0, 0, RED));
	/* Over the bottom-right corner, thickness 2. */
	clear(&im);
	nk_draw_rect(&im, 15, 15, 30, 30, 2, RED);
	CHECK(painted(&im) == 5 * 2 + 3 * 2); /* rows 15,16 + cols 15,16 */
	CHECK(is(&im, 19, 15, RED) && is(&im, 15, 19, RED) && !is(&im, 19, 19, RED));
	/* Wholly outside, and around the whole image. */
	clear(&im);
	nk_draw_rect(&im, 25, 25, 40, 40, 3, RED);
	nk_draw_rect(&im, -10, 3, -1, 8, 1, RED);
	CHECK(painted(&im) == 0);
	nk_draw_rect(&im, -1, -1, 20, 20, 1, RED);
	CHECK(painted(&im) == 0);
	nk_draw_rect(&im, -1, -1, 20, 20, 2, RED);
	CHECK(painted(&im) == 20 * 4 - 4);
	/* Huge coordinates do not overflow. */
	clear(&im);
	nk_draw_rect(&im, -2000000000, -2000000000, 2000000000, 2000000000,
		     2100000000, RED);
	CHECK(painted(&im) == 400);
	/* at exactly t from every side a pixel is not on the outline */
	clear(&im);
	nk_draw_rect(&im, -2000000000, -2000000000, 2000000000, 2000000000,
		     2000000000, RED);
	CHECK(painted(&im) == 399 && !is(&im, 0, 0, RED));
	nk_draw_fill(&im, 2000000000, 5, 2100000000, 6, RED);
	nk_image_free(&im);
}

TEST(rgba_and_bad_images)
{
	nk_image im;
	CHECK(nk_image_alloc(&im, 4, 4, 4) == NK_OK);
	CHECK(nk_draw_fill(&im, 1, 1, 2, 2, RED) == NK_OK);
	unsigned char *p = im.data + (1 * 4 + 1) * 4;
	CHECK(p[0] == 255 && p[1] == 0 && p[2] == 0 && p[3] == 255);
	CHECK(im.data[3] == 0); /* untouched pixel keeps its alpha */
	nk_image_free(&im);
	CHECK(nk_image_alloc(&im, 4, 4, 1) == NK_OK);
	CHECK(nk_draw_rect(&im, 0, 0, 3, 3, 1, RED) == NK_EINVAL);
	CHECK(nk_draw_text(&im, 0, 0, "a", 1, RED) == NK_EINVAL);
	nk_image_free(&im);
}

/* Dots of a string's glyphs that land inside a w x h image when drawn
 * at (x, y), counted from the glyph strings. */
static int dots_inside(const char *s, int x, int y, int scale, int w, int h)
{
	int n = 0;
	for (int i = 0; s[i]; i++) {
		const char *g = nk_font_glyph((unsigned char)s[i]);
		for (int r = 0; r < 7; r++)
			for (int c = 0; c < 5; c++)
				if (g[r * 5 + c] == '#')
					for (int dy = 0; dy < scale; dy++)
						for (int dx = 0; dx < scale; dx++) {
							int px = x + (i * 6 + c) * scale + dx;
							int py = y + r * scale + dy;
							n += px >= 0 && px < w && py >= 0 && py < h;
						}
	}
	return n;
}

TEST(font_and_text)
{
	/* Every printable character has 35 dots of '#' or '.'. */
	int ok = 1;
	for (int ch = 32; ch < 127; ch++) {
		const char *g = nk_font_glyph(ch);
		ok &= g && strlen(g) == 35 && strspn(g, "#.") == 35;
		ok &= ch == ' ' || strchr(g, '#') != NULL;
	}
	CHECK(ok);
	CHECK(!nk_font_glyph(31) && !nk_font_glyph(127) && !nk_font_glyph(200));
	int w, h;
	nk_text_size(&w, &h, "AB", 1);
	CHECK(w == 11 && h == 7);
	nk_text_size(&w, &h, "dog", 2);
	CHECK(w == 34 && h == 14);

	nk_image im;
	CHECK(nk_image_alloc(&im, 40, 20, 3) == NK_OK);
	/* "A" is .###. / #...# / #...# / ##### / #...# x3: 18 dots. */
	nk_draw_text(&im, 1, 2, "A", 1, RED);
	CHECK(painted(&im) == 18);
	CHECK(is(&im, 2, 2, RED) && !is(&im, 1, 2, RED) && is(&im, 1, 3, RED));
	CHECK(is(&im, 5, 5, RED) && !is(&im, 3, 6, RED));
	/* scale 2: 4 pixels a dot */
	clear(&im);
	nk_draw_text(&im, 0, 0, "A", 2, RED);
	CHECK(painted(&im) == 72);
	/* clipped at every edge */
	static const int at[][2] = { { -7, 3 }, { 30, 3 }, { 2, -4 }, { 2, 16 }, { -100, -100 } };
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		clear(&im);
		nk_draw_text(&im, at[i][0], at[i][1], "Hi %W", 2, RED);
		CHECK_MSG(painted(&im) == dots_inside("Hi %W", at[i][0], at[i][1], 2, 40, 20),
			  "at %d,%d: %d painted, %d dots", at[i][0], at[i][1], painted(&im),
			  dots_inside("Hi %W", at[i][0], at[i][1], 2, 40, 20));
	}
	/* a character outside ASCII is drawn as '?' */
	clear(&im);
	nk_draw_text(&im, 0, 0, "\xe9", 1, RED);
	CHECK(painted(&im) == dots_inside("?", 0, 0, 1, 40, 20));
	nk_image_free(&im);
}

TEST(labels)
{
	nk_image im;
	CHECK(nk_image_alloc(&im, 100, 100, 3) == NK_OK);
	nk_rgb yellow = { 255, 255, 0 }, black = { 0, 0, 0 };
	/* Room above: label 3*6-1+2 = 19 wide, 7+2 = 9 high, its bottom row
	 * at top + t - 1 = 41: rows 33..41, columns 10..28. */
	CHECK(nk_draw_box_label(&im, 10, 40, 60, 80, 2, "dog", 1, yellow) == NK_OK);
	CHECK(is(&im, 10, 33, yellow) && is(&im, 28, 33, yellow));
	CHECK(!is(&im, 29, 33, yellow) && !is(&im, 10, 32, yellow));
	CHECK(is(&im, 60, 40, yellow) && is(&im, 60, 80, yellow) && is(&im, 10, 80, yellow));
	CHECK(is(&im, 59, 41, yellow) && !is(&im, 58, 42, yellow));
	/* black text on yellow, its dots inside the margin */
	int ink = 0;
	for (int y = 33; y <= 41; y++)
		for (int x = 10; x <= 28; x++)
			ink += is(&im, x, y, black);
	CHECK_MSG(ink == dots_inside("dog", 0, 0, 1, 100, 100), "ink %d", ink);
	CHECK(is(&im, 11, 34, yellow) == (nk_font_glyph('d')[0] != '#'));

	/* No room above: inside, from top + t down; white on dark blue. */
	clear(&im);
	nk_rgb blue = { 0, 0, 255 }, white = { 255, 255, 255 };
	nk_draw_box_label(&im, 5, 3, 50, 50, 1, "car", 1, blue);
	CHECK(is(&im, 5, 4, blue) && is(&im, 6, 12, blue) && !is(&im, 6, 13, blue));
	ink = 0;
	for (int y = 4; y <= 12; y++)
		for (int x = 5; x <= 23; x++)
			ink += is(&im, x, y, white);
	CHECK(ink == dots_inside("car", 0, 0, 1, 100, 100));

	/* Running off the right edge: clipped, nothing wraps to x = 0. */
	clear(&im);
	nk_draw_box_label(&im, 90, 50, 99, 60, 1, "person", 1, yellow);
	int left = 0;
	for (int y = 0; y < 100; y++)
		for (int x = 0; x < 90; x++)
			left += !is(&im, x, y, black);
	CHECK(left == 0 && is(&im, 99, 42, yellow)); /* margin row */
	nk_image_free(&im);
}

TEST(detection_and_colors)
{
	/* get_color worked by hand: class 1 of 80 has offset 123457 % 80 =
	 * 17, ratio 17/80*5 = 1.0625 between blue (0,0,1) and cyan (0,1,1)
	 * in darknet's BGR table: r = 1, g = .0625 -> 15, b = 0. */
	nk_rgb c = nk_class_color(1, 80);
	CHECK(c.r == 255 && c.g == 15 && c.b == 0);
	c = nk_class_color(0, 80); /* offset 0: magenta */
	CHECK(c.r == 255 && c.g == 0 && c.b == 255);
	c = nk_class_color(1, 5); /* offset 2, exactly cyan in BGR */
	CHECK(c.r == 255 && c.g == 255 && c.b == 0);
	c = nk_class_color(4, 5); /* offset 493828 % 5 = 3: green */
	CHECK(c.r == 0 && c.g == 255 && c.b == 0);
	c = nk_class_color(20000, 20001); /* no int overflow */
	CHECK(c.r || c.g || c.b);

	nk_image im;
	CHECK(nk_image_alloc(&im, 100, 100, 3) == NK_OK);
	/* edges (int)37.5, 62.5, 25, 75 (exact in binary); thickness
	 * (int)(100 * .006) = 0, drawn as 1 */
	nk_box b = { .5f, .5f, .25f, .5f };
	CHECK(nk_draw_detection(&im, b, NULL, RED) == NK_OK);
	CHECK(is(&im, 37, 25, RED) && is(&im, 62, 75, RED) && is(&im, 37, 75, RED));
	CHECK(!is(&im, 38, 26, RED) && !is(&im, 36, 25, RED) && !is(&im, 63, 75, RED));
	CHECK(painted(&im) == 2 * 26 + 2 * 49);
	/* off the top-left corner: clamped to the image like darknet, so
	 * the left and top edges are drawn along the border */
	clear(&im);
	nk_box off = { 0, 0, .5f, .5f };
	CHECK(nk_draw_detection(&im, off, "x", RED) == NK_OK);
	CHECK(is(&im, 0, 20, RED) && is(&im, 24, 0, RED) && is(&im, 25, 25, RED));
	nk_image_free(&im);
}

int main(void)
{
	RUN(rect_corners_thickness);
	RUN(rect_clipping);
	RUN(rgba_and_bad_images);
	RUN(font_and_text);
	RUN(labels);
	RUN(detection_and_colors);
	return nk_test_exit();
}
