/* draw.h - detections drawn onto 8-bit RGB(A) images: rectangle
 * outlines, filled label boxes and text in a built-in 5x7 bitmap font
 * (font.c), one colour per class.
 *
 * Coordinates are pixels, (0,0) the top-left pixel, corners inclusive.
 * Everything is clipped: whatever falls outside the image is not drawn,
 * and nothing wraps.  The image must have 3 (RGB) or 4 (RGBA) channels;
 * drawn pixels get alpha 255.  The functions return NK_EINVAL for any
 * other image and NK_OK otherwise.
 */
#ifndef NK_VISION_DRAW_H
#define NK_VISION_DRAW_H

#include "vision/boxes.h"
#include "vision/image.h"

typedef struct {
	unsigned char r, g, b;
} nk_rgb;

/* The font: glyphs NK_FONT_W x NK_FONT_H, laid out in cells one column
 * and one row larger. */
#define NK_FONT_W 5
#define NK_FONT_H 7
/* The glyph of ch (32..126) as NK_FONT_H rows of NK_FONT_W characters,
 * '#' for a dot; NULL for other characters. */
const char *nk_font_glyph(int ch);

/* darknet's class colour (draw_detections): offset = cls * 123457 %
 * classes, then get_color's blend of magenta, blue, cyan, green,
 * yellow, red at offset / classes, each channel as (unsigned char)(255 *
 * value), the way darknet writes its float images out. */
nk_rgb nk_class_color(int cls, int classes);

/* The outline of the rectangle with corners (x1,y1), (x2,y2) (either
 * order), t pixels thick, growing inward: the pixels of the rectangle
 * less than t from its border.  Inside the image this is darknet's
 * draw_box_width; t < 1 draws nothing. */
int nk_draw_rect(nk_image *im, int x1, int y1, int x2, int y2, int t,
		 nk_rgb col);
/* The filled rectangle. */
int nk_draw_fill(nk_image *im, int x1, int y1, int x2, int y2, nk_rgb col);

/* The size in pixels of one line of text at the given scale (each dot
 * scale x scale pixels): len * 6 * scale - scale wide, 7 * scale high. */
void nk_text_size(int *w, int *h, const char *text, int scale);
/* One line of text, top-left at (x,y), dots in col, background left as
 * it is.  Characters outside 32..126 are drawn as '?'. */
int nk_draw_text(nk_image *im, int x, int y, const char *text, int scale,
		 nk_rgb col);

/* A labelled box: the outline (nk_draw_rect) and a label of the text on
 * a filled background of col, with a margin of scale pixels; the text
 * is black on light colours and white on dark ones.  The label sits on
 * top of the box, its bottom row at top + t - 1 (overlapping the
 * outline, as darknet's draw_label does), when it fits above the image's
 * top edge; otherwise inside the box, from top + t down.  Text that
 * does not fit is clipped at the image's edges. */
int nk_draw_box_label(nk_image *im, int left, int top, int right, int bot,
		      int t, const char *text, int scale, nk_rgb col);

/* darknet's draw_detections for one detection, without its PNG
 * alphabet: box b in fractions of the image, its edges at
 * (int)((b.x -+ b.w / 2.) * im->w) and likewise in y, clamped into the
 * image; outline im->h * .006 thick (at least 1); text scale 1 + im->h
 * / 400.  text may be NULL for no label. */
int nk_draw_detection(nk_image *im, nk_box b, const char *text, nk_rgb col);

/* darknet's draw_detections: every detection with a class above 0 gets
 * its box (pixels of im, centre-based) and a label of those classes
 * joined by ", " (names[c], or the index when names is NULL), in its
 * best class's colour. */
int nk_draw_detections(nk_image *im, const nk_detection *d, int n,
		       int classes, const char *const *names);

/* out: an RGB copy of im (gray spread to three channels, alpha dropped),
 * for drawing in colour.  Free with nk_image_free. */
int nk_image_to_rgb(nk_image *out, const nk_image *im);

#endif
