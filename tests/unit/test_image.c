/* test_image.c - image decoding with caps, encoding, format detection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

#include "core/base.h"
#include "check.h"
#include "vision/image.h"

/* Encodes img into a heap buffer through nk_image_write_fp. */
static unsigned char *encode(const nk_image *img, int format, size_t *n)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, n);
	if (!fp)
		return NULL;
	int rc = nk_image_write_fp(img, fp, "mem", format, 90);
	fclose(fp);
	if (rc) {
		free(buf);
		return NULL;
	}
	return (unsigned char *)buf;
}

static void fill(nk_image *img, unsigned seed)
{
	for (size_t i = 0; i < nk_image_bytes(img); i++) {
		seed = seed * 1103515245u + 12345u;
		img->data[i] = (unsigned char)(seed >> 24);
	}
}

TEST(png_round_trip)
{
	for (int c = 1; c <= 4; c++) {
		nk_image img, back;
		CHECK(nk_image_alloc(&img, 17, 13, c) == 0);
		fill(&img, (unsigned)c);
		size_t n = 0;
		unsigned char *png = encode(&img, NK_IMG_PNG, &n);
		CHECK(png != NULL && n > 8);
		CHECK(nk_image_sniff(png, n) == NK_IMG_PNG);
		CHECK(nk_image_decode(&back, png, n, "rt.png", NULL) == 0);
		CHECK(back.w == 17 && back.h == 13 && back.c == c);
		CHECK(back.data && memcmp(back.data, img.data, nk_image_bytes(&img)) == 0);
		free(png);
		nk_image_free(&img);
		nk_image_free(&back);
	}
}

TEST(jpeg_round_trip)
{
	nk_image img, back;
	CHECK(nk_image_alloc(&img, 32, 24, 3) == 0);
	for (int y = 0; y < 24; y++)
		for (int x = 0; x < 32; x++)
			for (int k = 0; k < 3; k++)
				img.data[(y * 32 + x) * 3 + k] = (unsigned char)(x * 4 + k * 40 + y);
	size_t n = 0;
	unsigned char *jpg = encode(&img, NK_IMG_JPEG, &n);
	CHECK(jpg != NULL);
	CHECK(nk_image_sniff(jpg, n) == NK_IMG_JPEG);
	CHECK(nk_image_decode(&back, jpg, n, "rt.jpg", NULL) == 0);
	CHECK(back.w == 32 && back.h == 24 && back.c == 3);
	int worst = 0;
	for (size_t i = 0; back.data && i < nk_image_bytes(&img); i++) {
		int d = abs(back.data[i] - img.data[i]);
		worst = d > worst ? d : worst;
	}
	CHECK_MSG(worst <= 24, "JPEG q90 differs by %d on a smooth image", worst);
	/* Quality out of range is refused. */
	char *buf = NULL;
	size_t bn = 0;
	FILE *fp = open_memstream(&buf, &bn);
	CHECK(nk_image_write_fp(&img, fp, "q.jpg", NK_IMG_JPEG, 0) == NK_ERANGE);
	CHECK(nk_image_write_fp(&img, fp, "q.bmp", NK_IMG_BMP, 90) == NK_EINVAL);
	fclose(fp);
	free(buf);
	free(jpg);
	nk_image_free(&img);
	nk_image_free(&back);
}

static void mem_cb(void *ctx, void *data, int size)
{
	FILE *fp = ctx;
	fwrite(data, 1, (size_t)size, fp);
}

TEST(other_formats)
{
	nk_image img, back;
	CHECK(nk_image_alloc(&img, 5, 3, 3) == 0);
	fill(&img, 7);
	/* BMP and TGA through stb_image_write, PNM and GIF by hand. */
	for (int f = 0; f < 2; f++) {
		char *buf = NULL;
		size_t n = 0;
		FILE *fp = open_memstream(&buf, &n);
		if (f == 0)
			stbi_write_bmp_to_func(mem_cb, fp, 5, 3, 3, img.data);
		else
			stbi_write_tga_to_func(mem_cb, fp, 5, 3, 3, img.data);
		fclose(fp);
		CHECK(nk_image_sniff((unsigned char *)buf, n) ==
		      (f == 0 ? NK_IMG_BMP : NK_IMG_UNKNOWN));
		CHECK(nk_image_decode(&back, (unsigned char *)buf, n, "x", NULL) == 0);
		CHECK(back.w == 5 && back.h == 3 && back.c == 3 &&
		      memcmp(back.data, img.data, 45) == 0);
		nk_image_free(&back);
		free(buf);
	}
	unsigned char pnm[64];
	int k = snprintf((char *)pnm, sizeof pnm, "P6\n5 3\n255\n");
	memcpy(pnm + k, img.data, 45);
	CHECK(nk_image_sniff(pnm, (size_t)k + 45) == NK_IMG_PNM);
	CHECK(nk_image_decode(&back, pnm, (size_t)k + 45, "x.ppm", NULL) == 0);
	CHECK(back.w == 5 && back.h == 3 && memcmp(back.data, img.data, 45) == 0);
	nk_image_free(&back);
	static const unsigned char gif[] =
		"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
		"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01"
		"\x00\x00\x02\x02\x44\x01\x00;";
	CHECK(nk_image_sniff(gif, sizeof gif - 1) == NK_IMG_GIF);
	CHECK(nk_image_decode(&back, gif, sizeof gif - 1, "x.gif", NULL) == 0);
	CHECK(back.w == 1 && back.h == 1 && back.c == 4);
	nk_image_free(&back);
	nk_image_free(&img);
}

/* A PNG header (signature + IHDR) declaring w x h RGB, with a valid CRC. */
static size_t png_header(unsigned char *p, uint32_t w, uint32_t h)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	memcpy(p, sig, 8);
	unsigned char *c = p + 8;
	c[0] = 0; c[1] = 0; c[2] = 0; c[3] = 13;
	memcpy(c + 4, "IHDR", 4);
	for (int i = 0; i < 4; i++) {
		c[8 + i] = (unsigned char)(w >> (24 - 8 * i));
		c[12 + i] = (unsigned char)(h >> (24 - 8 * i));
	}
	c[16] = 8; c[17] = 2; c[18] = 0; c[19] = 0; c[20] = 0;
	uint32_t crc = 0xffffffffu;
	for (int i = 4; i < 21; i++) {
		crc ^= c[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
	}
	crc ^= 0xffffffffu;
	for (int i = 0; i < 4; i++)
		c[21 + i] = (unsigned char)(crc >> (24 - 8 * i));
	return 8 + 25;
}

TEST(caps_before_decoding)
{
	unsigned char p[64];
	nk_image img;
	size_t n = png_header(p, 100000, 10);
	CHECK(nk_image_decode(&img, p, n, "wide.png", NULL) == NK_ERANGE);
	CHECK(strstr(nk_last_error(), "wide.png") != NULL);
	CHECK(strstr(nk_last_error(), "32768") != NULL);
	CHECK(img.data == NULL);
	/* 16000 x 17000 passes the side cap but not the pixel cap. */
	n = png_header(p, 16000, 17000);
	CHECK(nk_image_decode(&img, p, n, "big.png", NULL) == NK_ERANGE);
	CHECK(strstr(nk_last_error(), "272000000 pixels") != NULL);
	/* Caps are the caller's to set. */
	nk_image_limits lim = { 8, 64 };
	n = png_header(p, 9, 2);
	CHECK(nk_image_decode(&img, p, n, "a.png", &lim) == NK_ERANGE);
	n = png_header(p, 8, 9);
	CHECK(nk_image_decode(&img, p, n, "a.png", &lim) == NK_ERANGE);
	/* Within the caps, a header with no pixel data is corrupt. */
	n = png_header(p, 8, 8);
	CHECK(nk_image_decode(&img, p, n, "a.png", &lim) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "a.png") != NULL);
}

TEST(bad_inputs)
{
	nk_image img;
	unsigned char p[64];
	CHECK(nk_image_decode(&img, (const unsigned char *)"", 0, "e.png", NULL) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "empty") != NULL);
	const char *text = "hello, this is not an image at all\n";
	CHECK(nk_image_decode(&img, (const unsigned char *)text, strlen(text), "t.txt", NULL) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "unsupported") != NULL);
	CHECK(nk_image_decode(&img, (const unsigned char *)"8BPS\0\1\0\0\0\0\0\0", 12, "x.psd", NULL) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "PSD") != NULL);
	/* Zero width. */
	size_t n = png_header(p, 0, 5);
	CHECK(nk_image_decode(&img, p, n, "z.png", NULL) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "z.png") != NULL);
	/* A real PNG cut in half. */
	nk_image src;
	CHECK(nk_image_alloc(&src, 40, 40, 3) == 0);
	fill(&src, 3);
	size_t len = 0;
	unsigned char *png = encode(&src, NK_IMG_PNG, &len);
	CHECK(png != NULL);
	CHECK(nk_image_decode(&img, png, len / 2, "cut.png", NULL) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "cut.png") != NULL);
	CHECK(img.data == NULL);
	free(png);
	nk_image_free(&src);
	CHECK(nk_image_alloc(&img, 0, 1, 1) == NK_EINVAL);
	CHECK(nk_image_alloc(&img, 1, 1, 5) == NK_EINVAL);
}

TEST(names_and_load)
{
	CHECK(nk_image_format_from_path("a/b.PNG") == NK_IMG_PNG);
	CHECK(nk_image_format_from_path("x.jpeg") == NK_IMG_JPEG);
	CHECK(nk_image_format_from_path("x.jpg") == NK_IMG_JPEG);
	CHECK(nk_image_format_from_path("-") == NK_IMG_PNG);
	CHECK(nk_image_format_from_path("x.gif") == NK_IMG_UNKNOWN);
	CHECK(nk_image_format_from_path("dir.png/x") == NK_IMG_UNKNOWN);
	CHECK(strcmp(nk_image_format_name(NK_IMG_TGA), "tga") == 0);
	CHECK(strcmp(nk_image_format_name(99), "unknown") == 0);
	/* Save atomically, load back. */
	char dir[] = "/tmp/nk-image-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[64];
	snprintf(path, sizeof path, "%s/a.png", dir);
	nk_image img, back;
	CHECK(nk_image_alloc(&img, 3, 2, 1) == 0);
	fill(&img, 9);
	CHECK(nk_image_save(&img, path, 90) == 0);
	CHECK(nk_image_load(&back, path, NULL) == 0);
	CHECK(back.w == 3 && back.h == 2 && memcmp(back.data, img.data, 6) == 0);
	nk_image_free(&back);
	char bad[64];
	snprintf(bad, sizeof bad, "%s/a.tiff", dir);
	CHECK(nk_image_save(&img, bad, 90) == NK_EINVAL);
	CHECK(access(bad, F_OK) != 0);
	CHECK(nk_image_load(&back, "/nonexistent/x.png", NULL) != 0);
	CHECK(strstr(nk_last_error(), "/nonexistent/x.png") != NULL);
	unlink(path);
	rmdir(dir);
	nk_image_free(&img);
}

/* Files the fuzzer found to hit bugs in Debian's stb_image 2.27; they must
 * be refused before stb sees them (tests run from the repository root). */
TEST(stb_bug_regressions)
{
	static const char *const files[][2] = {
		{ "regress-jpeg-dht-over-256.jpg", "more than 256 codes" },
		{ "regress-jpeg-dht-after-garbage.jpg", "more than 256 codes" },
		{ "regress-jpeg-dht-fill-before-soi.jpg", "more than 256 codes" },
		{ "regress-jpeg-undefined-huffman.jpg", "never defined" },
		{ "regress-pnm-int-overflow.pgm", "too large" },
		{ "regress-png-chunk-2gib.png", "runs past the end" },
		{ "regress-png-empty-idat.png", "first IDAT chunk is empty" },
	};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		char path[128];
		snprintf(path, sizeof path, "tests/fuzz/corpus/image/%s", files[i][0]);
		if (access(path, R_OK) != 0) {
			CHECK_MSG(0, "%s missing (run from the repository root)", path);
			continue;
		}
		nk_image img;
		CHECK(nk_image_load(&img, path, NULL) == NK_EFORMAT);
		CHECK_MSG(strstr(nk_last_error(), files[i][1]) != NULL, "%s: %s",
			  files[i][0], nk_last_error());
	}
}

/* An image seen as the one compute view: u8 (h, w, c) over its pixels. */
TEST(tensor_view)
{
	unsigned char px[2 * 3 * 3];
	for (int i = 0; i < (int)sizeof px; i++)
		px[i] = (unsigned char)i;
	nk_image im = {3, 2, 3, px};
	nk_tensor t;
	CHECK(nk_image_view(&im, &t) == 0);
	CHECK(t.dtype == NK_U8 && t.ndim == 3 && t.ne[0] == 2 &&
	      t.ne[1] == 3 && t.ne[2] == 3 && t.nb[0] == 9 && t.nb[1] == 3 &&
	      t.nb[2] == 1);
	/* pixel (x 2, y 1) channel 1 is data[(1 * 3 + 2) * 3 + 1] */
	int64_t at[3] = {1, 2, 1};
	CHECK(*(unsigned char *)nk_tensor_ptr(&t, at) == 16);
}

/* A binary PNM must hold every pixel byte its header promises: stb 2.27
 * decoded a truncated one from uninitialised memory (issue 11). */
TEST(pnm_truncated_and_scaled)
{
	nk_image img;
	static const struct {
		const char *bytes;
		size_t n; /* 0: strlen */
		const char *msg;
	} bad[] = {
		{ "P5\n2 2\n255\nab", 0, "2 of 4 pixel bytes missing" },
		{ "P5\n2 2\n255\n", 0, "4 of 4 pixel bytes missing" },
		{ "P6\n2 1\n255\nabcde", 0, "1 of 6 pixel bytes missing" },
		{ "P5\n2 1\n65535\n\x01\x02\x03", 0, "1 of 4 pixel bytes" },
		{ "P5\n2 1\n255", 0, "does not end with a blank" },
		{ "P5\n1 1\n0\n\x00", 11, "maximum value 0" },
		{ "P5\n1 1\n15\n\x10", 0, "above the maximum value 15" },
		{ "P2\n1 1\n255\n7\n", 0, "convert it to binary P5/P6" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&img, 0x55, sizeof img);
		CHECK(nk_image_decode(&img, (const unsigned char *)bad[i].bytes,
				      bad[i].n ? bad[i].n : strlen(bad[i].bytes),
				      "t.pgm", NULL) == NK_EFORMAT);
		CHECK(img.data == NULL && img.w == 0);
		CHECK(strstr(nk_last_error(), "t.pgm: ") != NULL);
		CHECK(strstr(nk_last_error(), bad[i].msg) != NULL);
	}
	/* 16-bit samples and a maxval below 255 are scaled to 0..255. */
	static const unsigned char p16[] = "P5\n3 1\n65535\n\x00\x00\x80\x00\xff\xff";
	CHECK(nk_image_decode(&img, p16, sizeof p16 - 1, "t.pgm", NULL) == 0);
	CHECK(img.w == 3 && img.c == 1 && img.data[0] == 0 &&
	      img.data[1] == 128 && img.data[2] == 255);
	nk_image_free(&img);
	static const unsigned char p15[] = "P6\n1 1\n15\n\x00\x07\x0f";
	CHECK(nk_image_decode(&img, p15, sizeof p15 - 1, "t.ppm", NULL) == 0);
	CHECK(img.c == 3 && img.data[0] == 0 && img.data[1] == 119 &&
	      img.data[2] == 255);
	nk_image_free(&img);
}

int main(void)
{
	RUN(png_round_trip);
	RUN(tensor_view);
	RUN(jpeg_round_trip);
	RUN(other_formats);
	RUN(pnm_truncated_and_scaled);
	RUN(caps_before_decoding);
	RUN(bad_inputs);
	RUN(names_and_load);
	RUN(stb_bug_regressions);
	return nk_test_exit();
}
