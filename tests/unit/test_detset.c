/* test_detset.c - the detection readers: VOC XML (from memory and the
 * BCCD directory), detect run lines and COCO JSON. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/base.h"
#include "formats/coco.h"
#include "formats/detlines.h"
#include "formats/voc.h"

#define BCCD "../shared/data/bccd"

static const char voc_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!-- a comment with <tags> inside -->\n"
	"<annotation verified=\"yes\">\n"
	"\t<filename>a&amp;b.jpg</filename>\n"
	"\t<size><width>640</width><height>480</height></size>\n"
	"\t<object>\n"                                   /* line 6 */
	"\t\t<name>WBC</name><difficult>1</difficult>\n"
	"\t\t<bndbox><xmin>10</xmin><ymin>20.5</ymin>"
	"<xmax>110</xmax><ymax>70</ymax></bndbox>\n"
	"\t\t<part><name>nucleus</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
	"<xmax>2</xmax><ymax>2</ymax></bndbox></part>\n"
	"\t</object>\n"
	"\t<object>\n"                                   /* line 11 */
	"\t\t<name>RBC</name>\n"
	"\t\t<bndbox><xmin>5</xmin><ymin>5</ymin><xmax>5</xmax><ymax>9</ymax>"
	"</bndbox>\n"
	"\t</object>\n"
	"\t<object><name>RBC</name><bndbox><xmin>0</xmin><ymin>0</ymin>"
	"<xmax>3</xmax><ymax>4</ymax></bndbox></object>\n"
	"</annotation>\n";

TEST(voc_parse)
{
	nk_detset s = { 0 };
	CHECK(nk_voc_parse(&s, voc_xml, strlen(voc_xml), "x.xml", "X1", NULL,
			   0) == 0);
	CHECK(s.nimages == 1 && s.nobjects == 2 && s.nclasses == 2);
	CHECK(strcmp(s.images[0].file, "JPEGImages/a&b.jpg") == 0);
	CHECK(strcmp(s.images[0].name, "X1") == 0);
	CHECK(s.images[0].width == 640 && s.images[0].height == 480);
	/* classes in order of appearance here; nk_voc_read sorts them */
	CHECK(strcmp(s.names[0], "WBC") == 0 && strcmp(s.names[1], "RBC") == 0);
	nk_det_object *o = s.objects;
	CHECK(o[0].cls == 0 && o[0].difficult && o[0].x == 10 &&
	      o[0].y == 20.5f && o[0].w == 100 && o[0].h == 49.5f);
	CHECK(o[1].cls == 1 && !o[1].difficult && o[1].w == 3 && o[1].h == 4);
	/* the zero-width box on line 11 is a warning, not an object */
	CHECK(s.nwarnings == 1);
	CHECK_MSG(strstr(s.warnings[0].msg, "x.xml:11: object 'RBC'") != NULL,
		  "%s", s.warnings[0].msg);
	nk_detset_free(&s);
	/* a names list: its order, and a class outside it is an error */
	const char *names[] = { "RBC", "WBC" };
	CHECK(nk_voc_parse(&s, voc_xml, strlen(voc_xml), "x.xml", "X1", names,
			   2) == 0);
	CHECK(s.objects[0].cls == 1 && s.objects[1].cls == 0);
	nk_detset_free(&s);
	CHECK(nk_voc_parse(&s, voc_xml, strlen(voc_xml), "x.xml", "X1", names,
			   1) == NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "x.xml:6: class 'WBC'") != NULL);
	nk_detset_free(&s);
}

/* Malformed input: each error names the file and line. */
TEST(voc_errors)
{
	static const struct {
		const char *xml, *want;
	} c[] = {
		{ "<annotation>\n<object>\n</annotation>", "f.xml:3: end tag does not close 'object'" },
		{ "<annotation>\n<size><width>6x</width>", "f.xml:2: not a number: '6x'" },
		{ "<annotation><object><name>a</name>\n</object></annotation>", "f.xml:1: object 'a' has no bndbox/xmin" },
		{ "<annotation>\n<!-- open", "f.xml:2: unterminated comment" },
		{ "<annotation>&nbsp;</annotation>", "f.xml:1: unknown entity" },
		{ "<a></a>", "no <annotation>" },
		{ "<annotation></annotation>\n<annotation>", "f.xml:2: a second root" },
		{ "<annotation>\n<x><![CDATA[a]]></x></annotation>", "f.xml:2: CDATA" },
		{ "<annotation>", "f.xml:1: unclosed element 'annotation'" },
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		nk_detset s = { 0 };
		int rc = nk_voc_parse(&s, c[i].xml, strlen(c[i].xml), "f.xml",
				      "f", NULL, 0);
		CHECK_MSG(rc == NK_EFORMAT && strstr(nk_last_error(), c[i].want),
			  "case %zu: rc %d, '%s'", i, rc, nk_last_error());
		nk_detset_free(&s);
	}
}

/* BCCD: 364 annotations with 4888 objects (counted with grep), two of
 * them empty boxes (BloodImage_00338 and 00343); the test split has 72
 * images.  Classes sorted: Platelets, RBC, WBC. */
TEST(voc_bccd)
{
	FILE *fp = fopen(BCCD "/ImageSets/Main/test.txt", "r");
	if (!fp) {
		nk_test_skip("voc_bccd", BCCD " is missing");
		check_group_failed = -1;
		return;
	}
	fclose(fp);
	nk_detset s;
	CHECK(nk_voc_read(&s, BCCD, NULL, NULL, 0) == 0);
	CHECK(s.nimages == 364 && s.nobjects == 4886 && s.nclasses == 3);
	CHECK(strcmp(s.names[0], "Platelets") == 0 &&
	      strcmp(s.names[1], "RBC") == 0 && strcmp(s.names[2], "WBC") == 0);
	CHECK(s.nwarnings == 2);
	CHECK(s.nwarnings == 2 &&
	      strstr(s.warnings[0].msg, "BloodImage_00338.xml:158:") &&
	      strstr(s.warnings[1].msg, "BloodImage_00343.xml:50:"));
	size_t count[3] = { 0 };
	for (size_t i = 0; i < s.nobjects; i++)
		count[s.objects[i].cls]++;
	/* grep -c: 361 Platelets, 4155 RBC (two empty), 372 WBC */
	CHECK(count[0] == 361 && count[1] == 4153 && count[2] == 372);
	nk_detset_free(&s);
	CHECK(nk_voc_read(&s, BCCD, "test", NULL, 0) == 0);
	CHECK(s.nimages == 72 && strcmp(s.images[0].name, "BloodImage_00007") == 0);
	nk_detset_free(&s);
	CHECK(nk_voc_read(&s, BCCD, "nosuch", NULL, 0) == NK_EIO);
	CHECK(strstr(nk_last_error(), "nosuch.txt") != NULL);
}

/* A ground truth with images a.jpg (id 1) and dir/b.png (id 2), classes
 * "blood cell" (id 3) and WBC (id 1). */
static void small_gt(nk_detset *gt)
{
	static const char js[] =
		"{\"info\": {\"x\": [1, {\"y\": null}]},\n"
		" \"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 64,"
		" \"height\": 48}, {\"id\": 2, \"file_name\": \"dir/b.png\"}],\n"
		" \"annotations\": [\n"
		"  {\"id\": 9, \"image_id\": 2, \"category_id\": 3, \"bbox\": [1, 2, 3, 4],"
		" \"area\": 10.5, \"iscrowd\": 1},\n"
		"  {\"id\": 4, \"image_id\": 1, \"category_id\": 1, \"bbox\": [0.5, 0, 2, 2]}],\n"
		" \"categories\": [{\"id\": 3, \"name\": \"blood cell\"},"
		" {\"id\": 1, \"name\": \"WBC\"}]}\n";
	memset(gt, 0, sizeof *gt);
	CHECK(nk_coco_parse(gt, js, strlen(js), "gt.json") == 0);
}

TEST(coco_gt)
{
	nk_detset gt;
	small_gt(&gt);
	CHECK(gt.nimages == 2 && gt.nclasses == 2 && gt.nobjects == 2);
	/* categories by id: WBC (1) first */
	CHECK(strcmp(gt.names[0], "WBC") == 0 && gt.class_ids[0] == 1 &&
	      strcmp(gt.names[1], "blood cell") == 0 && gt.class_ids[1] == 3);
	/* objects sorted by image */
	nk_det_object *o = gt.objects;
	CHECK(o[0].image == 0 && o[0].cls == 0 && o[0].x == 0.5f &&
	      o[0].area == 4 && o[0].id == 4 && !o[0].crowd);
	CHECK(o[1].image == 1 && o[1].cls == 1 && o[1].area == 10.5f &&
	      o[1].crowd && o[1].id == 9 && o[1].h == 4);
	CHECK(gt.images[0].width == 64 && gt.images[1].width == 0);
	nk_detset_free(&gt);
	static const struct {
		const char *js, *want;
	} c[] = {
		{ "{\"images\": [{\"id\": 1}],\n \"annotations\": [{\"image_id\": 1,"
		  " \"category_id\": 5, \"bbox\": [0, 0, 1, 1]}]}",
		  "j:2:18: annotation of an unknown category_id" },
		{ "{\"annotations\": [{\"image_id\": 1, \"bbox\": [0, 0, 1]}]}",
		  "j:1:51: bbox needs 4 numbers" },
		{ "{\"images\": [{\"id\": 1}, {\"id\": 1}]}", "two images with one id" },
		{ "{\"images\": 3}", "expected an array" },
		{ "{} x", "bytes after" },
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		nk_detset s;
		int rc = nk_coco_parse(&s, c[i].js, strlen(c[i].js), "j");
		CHECK_MSG(rc == NK_EFORMAT && strstr(nk_last_error(), c[i].want),
			  "case %zu: rc %d, '%s'", i, rc, nk_last_error());
	}
}

TEST(coco_results)
{
	nk_detset gt, p;
	small_gt(&gt);
	static const char js[] =
		"[{\"image_id\": 2, \"category_id\": 3, \"bbox\": [1, 2, 3, 4],"
		" \"score\": 0.25},\n"
		" {\"image_id\": \"a\", \"category_id\": 1, \"bbox\": [0, 0, 2, 5e-1],"
		" \"score\": 1}]";
	CHECK(nk_coco_results_parse(&p, &gt, js, strlen(js), "r.json") == 0);
	CHECK(p.nobjects == 2 && p.nimages == 0);
	CHECK(p.objects[0].image == 1 && p.objects[0].cls == 1 &&
	      p.objects[0].score == 0.25f && p.objects[0].id == 1 &&
	      p.objects[0].area == 12);
	CHECK(p.objects[1].image == 0 && p.objects[1].cls == 0 &&
	      p.objects[1].h == 0.5f && p.objects[1].id == 2);
	nk_detset_free(&p);
	static const char bad[] = "[\n{\"image_id\": 7, \"category_id\": 3,"
				  " \"bbox\": [1, 2, 3, 4], \"score\": 1}]";
	CHECK(nk_coco_results_parse(&p, &gt, bad, strlen(bad), "r.json") ==
	      NK_EFORMAT);
	CHECK(strstr(nk_last_error(), "r.json:2:1: image_id not in the") != NULL);
	nk_detset_free(&gt);
}

TEST(detlines)
{
	nk_detset gt, p;
	small_gt(&gt);
	static const char txt[] =
		"# detect run\n"
		"x/y/b.jpg blood cell 0.900000 1.000 2.000 3.000 4.000\n"
		"\n"
		"a.png 0 0.5 0 0 2 2\r\n"
		"a WBC 0.25 1 1 1 1\n";
	CHECK(nk_detlines_parse(&p, &gt, txt, strlen(txt), "p.txt") == 0);
	CHECK(p.nobjects == 3);
	CHECK(p.objects[0].image == 1 && p.objects[0].cls == 1 &&
	      p.objects[0].score == 0.9f && p.objects[0].h == 4);
	CHECK(p.objects[1].image == 0 && p.objects[1].cls == 0 &&
	      p.objects[1].w == 2);
	CHECK(p.objects[2].cls == 0 && p.objects[2].score == 0.25f);
	nk_detset_free(&p);
	static const struct {
		const char *txt, *want;
	} c[] = {
		{ "a.jpg WBC 0.5 1 2 3\n", "p.txt:1: want IMAGE CLASS SCORE" },
		{ "\na.jpg RBC 0.5 1 2 3 4\n", "p.txt:2: class 'RBC'" },
		{ "a.jpg 2 0.5 1 2 3 4\n", "class '2'" },
		{ "c.jpg WBC 0.5 1 2 3 4\n", "p.txt:1: image 'c.jpg'" },
		{ "a.jpg WBC 0.5 1 2 -3 4\n", "p.txt:1: a negative" },
		{ "a.jpg WBC x 1 2 3 4\n", "p.txt:1: want" },
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		int rc = nk_detlines_parse(&p, &gt, c[i].txt, strlen(c[i].txt),
					   "p.txt");
		CHECK_MSG(rc == NK_EFORMAT && strstr(nk_last_error(), c[i].want),
			  "case %zu: rc %d, '%s'", i, rc, nk_last_error());
	}
	nk_detset_free(&gt);
}

int main(void)
{
	RUN(voc_parse);
	RUN(voc_errors);
	nk_test_begin("voc_bccd");
	voc_bccd();
	if (check_group_failed != -1)
		nk_test_end();
	RUN(coco_gt);
	RUN(coco_results);
	RUN(detlines);
	return nk_test_exit();
}
