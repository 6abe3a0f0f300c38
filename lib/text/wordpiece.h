/* wordpiece.h - BERT's WordPiece tokenizer: a vocab.txt, BERT's basic
 * tokenization, greedy longest-match-first pieces, decoding, and
 * learning a vocab.txt from text.
 *
 * Encoding follows HuggingFace's BertTokenizerFast (tokenizers'
 * BertNormalizer + BertPreTokenizer + WordPiece, the tokenizer.json on
 * the Hub), which the slow transformers BertTokenizer agrees with but
 * for unassigned code points:
 *  1. The special tokens [PAD] [UNK] [CLS] [SEP] [MASK] that the vocab
 *     holds are cut out of the raw text wherever they stand, exact bytes
 *     ("[MASK]" stays one token with lower-casing; "[mask]" does not).
 *  2. Clean: NUL, U+FFFD and control characters (categories Cc Cf Co,
 *     but tab, LF and CR) are dropped; White_Space becomes a space.  An
 *     ill-formed UTF-8 byte counts as U+FFFD, so it is dropped.
 *     Unassigned code points (Cn) stay, as in the Rust tokenizers and the
 *     npm port (only the slow Python tokenizer drops them).
 *  3. Spaces around CJK ideographs (_is_chinese_char's eight ranges).
 *  4. Lower-casing (full mapping per character: U+0130 gives "i" U+0307;
 *     no final-sigma rule, as Rust's per-character to_lowercase and the
 *     slow tokenizer's per-character lower() have none), then accent
 *     stripping: NFD, and every Mn dropped.  strip_accents follows
 *     lower-casing unless set (HF's strip_accents=None).
 *  5. Split on whitespace, and every punctuation character (ASCII 33-47,
 *     58-64, 91-96, 123-126, or a Unicode P* category) alone.
 *  6. Each word: longer than 100 characters -> [UNK]; else the longest
 *     vocab token that starts it, then the longest "##" token that
 *     continues it, and so on; a word that cannot be covered -> [UNK].
 * The npm @huggingface/transformers port differs from this in two
 * places (its bugs): it adds no spaces around CJK beyond U+FFFF (it
 * looks at UTF-16 units), and lower-cases a word-final capital sigma to
 * U+03C2 (String.toLowerCase's Final_Sigma rule).
 */
#ifndef NK_WORDPIECE_H
#define NK_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

/* The special tokens, in the order of BERT's vocab and of the vocab the
 * trainer writes (ids 0..4 there). */
enum nk_wp_special {
	NK_WP_PAD,
	NK_WP_UNK,
	NK_WP_CLS,
	NK_WP_SEP,
	NK_WP_MASK,
	NK_WP_NSPECIAL
};

#define NK_WP_MAX_WORD_CHARS 100 /* HF's max_input_chars_per_word */
#define NK_WP_MAX_TOKEN_BYTES 1024 /* a longer vocab line is an error */

typedef struct nk_wordpiece nk_wordpiece;

/* Loads a vocab.txt: one token per line, id = line number - 1; "\n" or
 * "\r\n" line ends; the last line may lack its newline.  Errors name
 * FILE:LINE: an empty line, a duplicate token (and where it was first),
 * ill-formed UTF-8, a line over NK_WP_MAX_TOKEN_BYTES.  Lower-casing is
 * on (bert-base-uncased); change it with nk_wp_set_case. */
int nk_wp_load(nk_wordpiece **out, const char *path);
/* The same from bytes in memory; `name` is what errors call the file. */
int nk_wp_from_buffer(nk_wordpiece **out, const char *name,
		      const unsigned char *buf, size_t n);
void nk_wp_free(nk_wordpiece *wp);

/* do_lower_case, and strip_accents: 1 on, 0 off, -1 as lower. */
void nk_wp_set_case(nk_wordpiece *wp, int lower, int strip_accents);

uint32_t nk_wp_size(const nk_wordpiece *wp);
/* The token with these bytes, or -1. */
int32_t nk_wp_id(const nk_wordpiece *wp, const char *tok, size_t len);
/* The token's text (NUL-terminated; *len its bytes when len is not
 * NULL), or NULL for an id beyond the vocab.  This is the fill-mask
 * pipeline's token_str: HF's decode([id]) is the token itself. */
const char *nk_wp_token(const nk_wordpiece *wp, uint32_t id, size_t *len);

/* ids[k] = the id of special token k, or -1.  Returns a bit mask of the
 * missing ones (1 << NK_WP_MASK, ...); the caller decides which it needs. */
unsigned nk_wp_specials(const nk_wordpiece *wp, int32_t ids[NK_WP_NSPECIAL]);
/* "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]". */
const char *nk_wp_special_name(int k);
/* NK_ENOTFOUND with "FILE: no [MASK] token" (the first missing one of
 * `need`, a mask of 1 << k) or 0. */
int nk_wp_require(const nk_wordpiece *wp, unsigned need);

/* Encoder output: ids, and per id 1 when the token continues a word
 * (starts with "##": whole-word masking keeps it with the one before).
 * Encoding appends; set n = 0 to start over.  One per thread: the
 * encoder's working memory lives here too, so a vocab is shared
 * read-only between threads. */
typedef struct nk_wp_ids {
	uint32_t *id;
	unsigned char *cont;
	size_t n, cap;
	struct nk_wp_words *work; /* private */
} nk_wp_ids;
void nk_wp_ids_free(nk_wp_ids *ids);

/* Encodes text (any bytes) without [CLS]/[SEP]: the caller adds them.
 * NK_ENOTFOUND when a word needs [UNK] and the vocab has none. */
int nk_wp_encode(const nk_wordpiece *wp, const unsigned char *text,
		 size_t n, nk_wp_ids *out);

/* HF's decode: the tokens joined by spaces, " ##" removed, trimmed, then
 * clean_up_tokenization (" ." -> ".", " n't" -> "n't", ...).  With
 * skip_special the special tokens are left out.  *text is malloc'd and
 * NUL-terminated; NK_ERANGE for an id beyond the vocab. */
int nk_wp_decode(const nk_wordpiece *wp, const uint32_t *ids, size_t n,
		 int skip_special, char **text, size_t *len);

/* ---- learning a vocab.txt (wordpiece_train.c) ----
 *
 * As HuggingFace tokenizers' WordPieceTrainer (a BPE trainer with "##"
 * continuations) with limit_alphabet off, over the words of the basic
 * tokenization above (special tokens in the text are not cut out, as in
 * HF's training).  Ids: 0 [PAD], 1 [UNK], 2 [CLS], 3 [SEP], 4 [MASK]
 * (BertWordPieceTokenizer's order); then every character seen, by code
 * point; then "##c" for every character seen inside a word, by code
 * point; then one token per merge.  A merge joins the pair of adjacent
 * tokens with the highest count over all words; ties go to the pair
 * with the smaller (left id, right id), which is HF's rule too (HF
 * numbers the "##c" tokens in hash order, so its ties can differ).  The
 * new token is left + right without its "##"; a merge whose text is
 * already a token reuses it.  It stops at `size` tokens, when no pair is
 * left, or when the best pair occurs fewer than min_freq times.  The
 * vocab is larger than `size` when the characters alone are more. */
typedef struct nk_wp_trainer nk_wp_trainer;
typedef void (*nk_wp_progress_fn)(void *ctx, uint32_t done, uint32_t total);

nk_wp_trainer *nk_wp_trainer_new(int lower, int strip_accents);
void nk_wp_trainer_free(nk_wp_trainer *t);
/* Adds text (any bytes; call it per line or per block). */
int nk_wp_trainer_add(nk_wp_trainer *t, const unsigned char *text, size_t n);
/* Distinct words counted so far. */
size_t nk_wp_trainer_words(const nk_wp_trainer *t);
/* Learns the vocab; *vocab is the vocab.txt text (malloc'd, one token
 * a line), which nk_wp_from_buffer loads. */
int nk_wp_trainer_run(nk_wp_trainer *t, uint32_t size, uint64_t min_freq,
		      nk_wp_progress_fn fn, void *ctx, char **vocab,
		      size_t *len);

#endif
