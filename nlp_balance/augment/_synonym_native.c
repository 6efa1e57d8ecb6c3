/*
 * Compiled hot loop of SynonymReplacement (the space-separated pieces path).
 *
 * A port of SynonymReplacement.augment_batch + _replace_by_pieces in synonym.py that must give the
 * same text for the same random stream: the same draws from each example's random.Random, in the
 * same order, the same word visited, the same candidate taken. It scans the text in place instead
 * of splitting it, which is where the pure-Python loop spends its time.
 *
 * Three jobs are done here for the common case and handed back to Python otherwise, so each rule
 * keeps one reference implementation there:
 *  - the words of a piece that is not all letters: for an ASCII piece none of the built-in protected
 *    patterns can match (no ':', '@', '#', digit or "www."), they are the matches of
 *    [A-Za-z]+(?:['-][A-Za-z]+)* (synonym._piece_words: split_words without protected spans);
 *    any other piece goes to _piece_words;
 *  - a first look-up of an ASCII word: lower case, stopword check, then the surface table
 *    (synonym_lookup.surface_forms, "cand1|cand2|..."), as WordAugmenter._fill does; any other
 *    word goes to _fill. The packed value itself is memoised (its own dict, word as written ->
 *    "cand1|cand2|..." or "" for none) and the chosen candidate is cut out of it at each visit.
 *    Splitting it into a tuple of new strings at the first look-up, as before, made a first pass
 *    over 5,000 texts 11-14% slower; the cut costs repeated passes 2-3% (paired, 2026-12-07);
 *  - the random stream: an int in place of a random.Random is its seed, and the stream is
 *    CPython's Mersenne Twister seeded with it (init_by_array, genrand_res53), as random.Random(seed)
 *    would draw it, without building the object.
 * Repeated from Python as well: str.isalpha / islower / isupper (as CPython defines them) and the
 * sentence-start check of the name rule (_starts_sentence / _follows_sentence_end).
 *
 * The module is optional: without it (no C compiler at install) synonym.py runs the Python loop.
 * tests/augment/test_synonym_native.py checks that both give the same text, including on arbitrary
 * strings with candidates injected for every word, that a seed draws what random.Random(seed) draws,
 * and that nothing leaks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static PyObject *str_random;  /* interned "random" */
static PyObject *str_sep;     /* "|", the surface table's separator */
static PyObject *str_empty;   /* "" */
static PyObject *empty_tuple; /* () */

/* ---- CPython's Mersenne Twister (Modules/_randommodule.c), for streams given as seeds ---------- */

#define MT_N 624
#define MT_M 397

typedef struct {
    uint32_t state[MT_N];
    int index;
} MT;

static uint32_t genrand_base[MT_N]; /* init_genrand(19650218), the start of every init_by_array */

static void
mt_seed(MT *mt, unsigned long long seed)
{
    /* random.seed(int): the absolute value as little-endian 32-bit words, at least one */
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    size_t key_length = key[1] ? 2 : 1, i = 1, j = 0, k;
    uint32_t *s = mt->state;
    memcpy(s, genrand_base, sizeof(genrand_base));
    for (k = MT_N; k; k--) {
        s[i] = (s[i] ^ ((s[i - 1] ^ (s[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) {
            s[0] = s[MT_N - 1];
            i = 1;
        }
        if (j >= key_length)
            j = 0;
    }
    for (k = MT_N - 1; k; k--) {
        s[i] = (s[i] ^ ((s[i - 1] ^ (s[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            s[0] = s[MT_N - 1];
            i = 1;
        }
    }
    s[0] = 0x80000000U;
    mt->index = MT_N;
}

static uint32_t
mt_next(MT *mt)
{
    static const uint32_t mag01[2] = {0x0U, 0x9908b0dfU};
    uint32_t y, *s = mt->state;
    if (mt->index >= MT_N) {
        int kk;
        for (kk = 0; kk < MT_N - MT_M; kk++) {
            y = (s[kk] & 0x80000000U) | (s[kk + 1] & 0x7fffffffU);
            s[kk] = s[kk + MT_M] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        for (; kk < MT_N - 1; kk++) {
            y = (s[kk] & 0x80000000U) | (s[kk + 1] & 0x7fffffffU);
            s[kk] = s[kk + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 0x1U];
        }
        y = (s[MT_N - 1] & 0x80000000U) | (s[0] & 0x7fffffffU);
        s[MT_N - 1] = s[MT_M - 1] ^ (y >> 1) ^ mag01[y & 0x1U];
        mt->index = 0;
    }
    y = s[mt->index++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= (y >> 18);
    return y;
}

/* The random stream of one text: a random.Random (rng) or a seeded twister (mt, when rng is NULL). */
typedef struct {
    PyObject *rng;
    MT mt;
} Stream;

/* One draw, as rng.random() gives it; -1.0 with an exception set on failure. */
static double
draw(Stream *st)
{
    if (st->rng == NULL) {
        uint32_t a = mt_next(&st->mt) >> 5, b = mt_next(&st->mt) >> 6;
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
    }
    PyObject *args[1] = {st->rng};
    PyObject *value = PyObject_VectorcallMethod(str_random, args, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (value == NULL)
        return -1.0;
    double x = PyFloat_AsDouble(value);
    Py_DECREF(value);
    return x; /* -1.0 with an error set when value was not a number */
}

/* ---- characters ----------------------------------------------------------------------------------- */

#define ASCII_LETTER(ch) ((((ch) | 0x20) >= 'a') && (((ch) | 0x20) <= 'z'))

/* str.isalpha of text[a:b]: non-empty and every character alphabetic. */
static int
is_alpha(int kind, const void *data, Py_ssize_t a, Py_ssize_t b)
{
    if (a >= b)
        return 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *c = (const Py_UCS1 *)data;
        for (Py_ssize_t i = a; i < b; i++) {
            Py_UCS1 ch = c[i];
            if (ch < 128 ? !ASCII_LETTER(ch) : !Py_UNICODE_ISALPHA(ch))
                return 0;
        }
        return 1;
    }
    for (Py_ssize_t i = a; i < b; i++) {
        if (!Py_UNICODE_ISALPHA(PyUnicode_READ(kind, data, i)))
            return 0;
    }
    return 1;
}

/* str.islower (upper == 0) or str.isupper (upper == 1) of a str, as CPython defines them: no
 * character of the other case or title case, and at least one cased character. */
static int
is_case(PyObject *s, int upper)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s), cased = 0;
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        int same = upper ? Py_UNICODE_ISUPPER(ch) : Py_UNICODE_ISLOWER(ch);
        int other = upper ? Py_UNICODE_ISLOWER(ch) : Py_UNICODE_ISUPPER(ch);
        if (other || Py_UNICODE_ISTITLE(ch))
            return 0;
        cased |= same;
    }
    return cased;
}

/* synonym._starts_sentence(text[a:b]): after stripping spaces, tabs, quotes and opening brackets
 * from the right, the separator ends in . ! ? : a line break or an ellipsis, or holds a line break. */
static int
starts_sentence(int kind, const void *data, Py_ssize_t a, Py_ssize_t b)
{
    for (Py_ssize_t i = a; i < b; i++) {
        if (PyUnicode_READ(kind, data, i) == '\n')
            return 1;
    }
    Py_ssize_t i = b - 1;
    for (; i >= a; i--) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        if (!(ch == ' ' || ch == '\t' || ch == '"' || ch == '\'' || ch == '(' || ch == '[' || ch == 0x201c
              || ch == 0x2018))
            break;
    }
    if (i < a)
        return 0;
    Py_UCS4 last = PyUnicode_READ(kind, data, i);
    return last == '.' || last == '!' || last == '?' || last == ':' || last == 0x2026;
}

/* synonym.aug_count: ceil(aug_p * n_words) clamped to [aug_min, aug_max] (aug_max < 0: no limit). */
static Py_ssize_t
aug_count(Py_ssize_t n_words, double aug_p, Py_ssize_t aug_min, Py_ssize_t aug_max)
{
    Py_ssize_t n = (Py_ssize_t)ceil(aug_p * (double)n_words - 1e-9);
    if (n < aug_min)
        n = aug_min;
    if (aug_max >= 0 && n > aug_max)
        n = aug_max;
    return n;
}

typedef struct {
    double aug_p;
    Py_ssize_t aug_min, aug_max;
    int keep;
    PyObject *pieces, *memo, *packed;          /* dicts owned by the augmenter */
    PyObject *piece_words, *fill, *match_case; /* Python callables */
    PyObject *stop, *surface;                  /* stopword set and surface table, or NULL: always _fill */
} Config;

/* ---- words of a text ------------------------------------------------------------------------------ */

#define SMALL 64 /* words per text handled without a heap allocation */

typedef struct {
    Py_ssize_t *start, *end, n, cap;
    Py_ssize_t small_start[SMALL], small_end[SMALL];
} Words;

static int
words_add(Words *w, Py_ssize_t s, Py_ssize_t e)
{
    if (w->n == w->cap) {
        Py_ssize_t cap = 2 * w->cap;
        Py_ssize_t *start = PyMem_Malloc((size_t)cap * sizeof(Py_ssize_t));
        Py_ssize_t *end = PyMem_Malloc((size_t)cap * sizeof(Py_ssize_t));
        if (start == NULL || end == NULL) {
            PyMem_Free(start);
            PyMem_Free(end);
            PyErr_NoMemory();
            return -1;
        }
        memcpy(start, w->start, (size_t)w->n * sizeof(Py_ssize_t));
        memcpy(end, w->end, (size_t)w->n * sizeof(Py_ssize_t));
        if (w->start != w->small_start) {
            PyMem_Free(w->start);
            PyMem_Free(w->end);
        }
        w->start = start;
        w->end = end;
        w->cap = cap;
    }
    w->start[w->n] = s;
    w->end[w->n++] = e;
    return 0;
}

#define ASCII_WORD(ch) (ASCII_LETTER(ch) || ((ch) >= '0' && (ch) <= '9') || (ch) == '_')
#define MAX_SPANS 32 /* protected spans per piece analysed here; a piece with more goes to Python */

typedef struct {
    Py_ssize_t s, e;
} Span;

static int
span_cmp(const void *a, const void *b)
{
    const Span *x = a, *y = b;
    return x->s != y->s ? (x->s < y->s ? -1 : 1) : (x->e < y->e ? -1 : x->e > y->e);
}

/* The built-in protected spans of an ASCII piece c[a:b], as text.Protector.spans finds them, when it
 * holds no URL or e-mail trigger ("://", "www.", an "@" after a character an address can end its
 * local part with): @mentions, #hashtags (@\w+, #\w+) and text._number_spans, sorted and merged.
 * Returns the number of spans, or -1 when the piece is not one of these (Python analyses it). */
static Py_ssize_t
ascii_spans(const Py_UCS1 *c, Py_ssize_t a, Py_ssize_t b, Span *out)
{
    Py_ssize_t n = 0, i, end = a;
    for (i = a; i < b; i++) {
        Py_UCS1 ch = c[i];
        if (ch >= 128)
            return -1;
        if (ch == ':' && i + 2 < b && c[i + 1] == '/' && c[i + 2] == '/')
            return -1;
        if (ch == 'w' && i + 3 < b && c[i + 1] == 'w' && c[i + 2] == 'w' && c[i + 3] == '.')
            return -1;
        if (ch == '@' && i > a && (ASCII_WORD(c[i - 1]) || c[i - 1] == '.' || c[i - 1] == '+' || c[i - 1] == '-'))
            return -1;
    }
    for (i = a; i < b; i++) { /* @\w+ and #\w+, each left to right without overlaps */
        if ((c[i] == '@' || c[i] == '#') && i + 1 < b && ASCII_WORD(c[i + 1])) {
            Py_ssize_t j = i + 1;
            while (j < b && ASCII_WORD(c[j]))
                j++;
            if (n == MAX_SPANS)
                return -1;
            out[n++] = (Span){i, j};
            i = j - 1;
        }
    }
    for (i = a; i < b; i++) { /* text._number_spans: the word run around a digit, extended over
                                 [.,:/-]-joined word characters */
        if (!(c[i] >= '0' && c[i] <= '9') || i < end)
            continue;
        Py_ssize_t start = i, j = i;
        while (start > end && ASCII_WORD(c[start - 1]))
            start--;
        while (j < b && ASCII_WORD(c[j]))
            j++;
        for (;;) {
            if (j < b && ASCII_WORD(c[j]))
                j++;
            else if (j + 1 < b && (c[j] == '.' || c[j] == ',' || c[j] == ':' || c[j] == '/' || c[j] == '-')
                     && ASCII_WORD(c[j + 1]))
                j += 2;
            else
                break;
        }
        if (n == MAX_SPANS)
            return -1;
        out[n++] = (Span){start, j};
        end = j;
        i = j - 1; /* the next digit is the start of another run, after this span */
    }
    if (n > 1)
        qsort(out, (size_t)n, sizeof(Span), span_cmp);
    Py_ssize_t m = 0;
    for (i = 0; i < n; i++) { /* merge overlaps (touching spans stay apart) */
        if (m && out[i].s < out[m - 1].e) {
            if (out[i].e > out[m - 1].e)
                out[m - 1].e = out[i].e;
        } else {
            out[m++] = out[i];
        }
    }
    return m;
}

/* The matches of [A-Za-z]+(?:['-][A-Za-z]+)* in c[a:b], left to right, appended to w. */
static int
ascii_words(const Py_UCS1 *c, Py_ssize_t a, Py_ssize_t b, Words *w)
{
    Py_ssize_t i = a;
    while (i < b) {
        if (!ASCII_LETTER(c[i])) {
            i++;
            continue;
        }
        Py_ssize_t s = i;
        while (i < b && ASCII_LETTER(c[i]))
            i++;
        while (i + 1 < b && (c[i] == '\'' || c[i] == '-') && ASCII_LETTER(c[i + 1])) {
            i++;
            while (i < b && ASCII_LETTER(c[i]))
                i++;
        }
        if (words_add(w, s, i) < 0)
            return -1;
    }
    return 0;
}

/* The words of one piece text[a:b] (no spaces), appended to w as offsets into the text. */
static int
piece_words(PyObject *text, Py_ssize_t a, Py_ssize_t b, Words *w, const Config *cfg)
{
    Span spans[MAX_SPANS];
    Py_ssize_t nspans = PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND
                            ? ascii_spans(PyUnicode_1BYTE_DATA(text), a, b, spans) : -1;
    if (nspans >= 0) { /* text.split_words: the words of the gaps between the protected spans */
        const Py_UCS1 *c = PyUnicode_1BYTE_DATA(text);
        Py_ssize_t pos = a;
        for (Py_ssize_t k = 0; k <= nspans; k++) {
            if (ascii_words(c, pos, k < nspans ? spans[k].s : b, w) < 0)
                return -1;
            if (k < nspans)
                pos = spans[k].e;
        }
        return 0;
    }
    PyObject *piece = PyUnicode_Substring(text, a, b), *found;
    if (piece == NULL)
        return -1;
    found = PyDict_GetItemWithError(cfg->pieces, piece);
    if (found != NULL)
        Py_INCREF(found);
    else if (!PyErr_Occurred())
        found = PyObject_CallFunctionObjArgs(cfg->piece_words, piece, cfg->pieces, NULL);
    Py_DECREF(piece);
    if (found == NULL)
        return -1;
    int status = PyTuple_Check(found) ? 0 : -1;
    for (Py_ssize_t k = 0; status == 0 && k < PyTuple_GET_SIZE(found); k++) {
        PyObject *pair = PyTuple_GET_ITEM(found, k);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            status = -1;
            break;
        }
        Py_ssize_t s = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0)), e = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
        if ((s == -1 || e == -1) && PyErr_Occurred())
            status = -2;
        else
            status = words_add(w, a + s, a + e) < 0 ? -2 : 0;
    }
    if (status == -1)
        PyErr_SetString(PyExc_TypeError, "_piece_words must return a tuple of (start, end) pairs");
    Py_DECREF(found);
    return status < 0 ? -1 : 0;
}

/* ---- candidates ----------------------------------------------------------------------------------- */

/* The candidates of a word as written (new reference). An ASCII word: its packed surface-table
 * value from cfg->packed, else a tuple from the memo (candidates set there by hand), else the lower
 * case through the stopwords and the surface table, memoised in cfg->packed ("" when it has none).
 * Any other word: a tuple from the memo, else from _fill. */
static PyObject *
candidates(PyObject *word, const Config *cfg)
{
    const int ascii = cfg->surface != NULL && PyUnicode_IS_ASCII(word);
    PyObject *found = ascii ? PyDict_GetItemWithError(cfg->packed, word) : NULL;
    if (found == NULL && !PyErr_Occurred())
        found = PyDict_GetItemWithError(cfg->memo, word);
    if (found != NULL)
        return Py_NewRef(found);
    if (PyErr_Occurred())
        return NULL;
    if (!ascii)
        return PyObject_CallFunctionObjArgs(cfg->fill, word, cfg->memo, NULL);
    Py_ssize_t n = PyUnicode_GET_LENGTH(word);
    PyObject *low = PyUnicode_New(n, 127);
    if (low == NULL)
        return NULL;
    const Py_UCS1 *src = PyUnicode_1BYTE_DATA(word);
    Py_UCS1 *dst = PyUnicode_1BYTE_DATA(low);
    for (Py_ssize_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (Py_UCS1)(src[i] | 0x20) : src[i];
    int stop = PySet_Contains(cfg->stop, low);
    PyObject *packed = stop == 0 ? PyDict_GetItemWithError(cfg->surface, low) : NULL;
    Py_DECREF(low);
    if (stop < 0 || (packed == NULL && PyErr_Occurred()))
        return NULL;
    if (packed != NULL && !PyUnicode_Check(packed)) {
        PyErr_SetString(PyExc_TypeError, "a surface-table value must be a str");
        return NULL;
    }
    found = Py_NewRef(packed == NULL ? str_empty : packed);
    if (PyDict_GET_SIZE(cfg->packed) >= 200000) /* WordAugmenter._fill's bound */
        PyDict_Clear(cfg->packed);
    if (PyDict_SetItem(cfg->packed, word, found) < 0)
        Py_CLEAR(found);
    return found;
}

/* How many candidates a packed value holds: its separators + 1, or 0 for "" (-1 on error). */
static Py_ssize_t
packed_count(PyObject *packed)
{
    const Py_ssize_t len = PyUnicode_GET_LENGTH(packed);
    if (len == 0)
        return 0;
    if (!PyUnicode_IS_ASCII(packed)) {
        Py_ssize_t seps = PyUnicode_Count(packed, str_sep, 0, len);
        return seps < 0 ? -1 : seps + 1;
    }
    const char *data = (const char *)PyUnicode_1BYTE_DATA(packed), *end = data + len;
    Py_ssize_t count = 1;
    for (const char *at = memchr(data, '|', (size_t)len); at != NULL; at = memchr(at + 1, '|', (size_t)(end - at - 1)))
        count++;
    return count;
}

/* Candidate idx of a packed value (new reference): the text between separators idx and idx + 1. */
static PyObject *
packed_item(PyObject *packed, Py_ssize_t idx)
{
    const Py_ssize_t len = PyUnicode_GET_LENGTH(packed);
    if (PyUnicode_IS_ASCII(packed)) {
        const char *data = (const char *)PyUnicode_1BYTE_DATA(packed), *end = data + len, *at = data;
        for (Py_ssize_t i = 0; i < idx; i++) {
            at = memchr(at, '|', (size_t)(end - at));
            if (at == NULL) {
                PyErr_SetString(PyExc_IndexError, "packed candidate index out of range");
                return NULL;
            }
            at++;
        }
        const char *stop = memchr(at, '|', (size_t)(end - at));
        Py_ssize_t m = (stop == NULL ? end : stop) - at;
        PyObject *item = PyUnicode_New(m, 127);
        if (item != NULL)
            memcpy(PyUnicode_1BYTE_DATA(item), at, (size_t)m);
        return item;
    }
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < idx; i++) {
        Py_ssize_t at = PyUnicode_FindChar(packed, '|', start, len, 1);
        if (at < 0) {
            if (at == -1)
                PyErr_SetString(PyExc_IndexError, "packed candidate index out of range");
            return NULL;
        }
        start = at + 1;
    }
    Py_ssize_t end = PyUnicode_FindChar(packed, '|', start, len, 1);
    if (end == -2)
        return NULL;
    return PyUnicode_Substring(packed, start, end < 0 ? len : end);
}

typedef struct {
    Py_ssize_t start, end; /* in the text */
    PyObject *rep;         /* owned */
} Choice;

static int
choice_cmp(const void *a, const void *b)
{
    const Choice *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* SynonymReplacement keeps a capitalised word (a name, most likely) unless it starts a sentence;
 * all-capital words and the first word are not names. This is _follows_sentence_end of synonym.py
 * on the text in place: the separator runs from the end of word k - 1 to the start of word k. */
static int
kept_as_name(PyObject *text, PyObject *word, const Words *w, Py_ssize_t k, const Config *cfg)
{
    if (!cfg->keep || k == 0 || PyUnicode_GET_LENGTH(word) == 0 || !Py_UNICODE_ISUPPER(PyUnicode_READ_CHAR(word, 0)))
        return 0;
    if (is_case(word, 1))
        return 0;
    return !starts_sentence(PyUnicode_KIND(text), PyUnicode_DATA(text), w->end[k - 1], w->start[k]);
}

/* text with the chosen replacements (sorted by position) spliced in: a new reference or NULL. */
static PyObject *
splice(PyObject *text, Choice *chosen, Py_ssize_t count)
{
    const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int ascii = PyUnicode_IS_ASCII(text);
    Py_ssize_t size = len;
    for (Py_ssize_t c = 0; c < count; c++) {
        ascii = ascii && PyUnicode_IS_ASCII(chosen[c].rep);
        size += PyUnicode_GET_LENGTH(chosen[c].rep) - (chosen[c].end - chosen[c].start);
    }
    if (ascii) { /* one allocation, copied in place (ASCII is always stored one byte a character) */
        PyObject *result = PyUnicode_New(size, 127);
        if (result == NULL)
            return NULL;
        Py_UCS1 *dst = PyUnicode_1BYTE_DATA(result);
        const Py_UCS1 *src = PyUnicode_1BYTE_DATA(text);
        Py_ssize_t pos = 0;
        for (Py_ssize_t c = 0; c <= count; c++) {
            Py_ssize_t stop = c < count ? chosen[c].start : len;
            memcpy(dst, src + pos, (size_t)(stop - pos));
            dst += stop - pos;
            if (c < count) {
                Py_ssize_t m = PyUnicode_GET_LENGTH(chosen[c].rep);
                memcpy(dst, PyUnicode_1BYTE_DATA(chosen[c].rep), (size_t)m);
                dst += m;
                pos = chosen[c].end;
            }
        }
        return result;
    }
    PyObject *parts = PyTuple_New(2 * count + 1); /* any other text: join canonical substrings */
    if (parts == NULL)
        return NULL;
    Py_ssize_t pos = 0;
    for (Py_ssize_t c = 0; c <= count; c++) {
        PyObject *gap = PyUnicode_Substring(text, pos, c < count ? chosen[c].start : len);
        if (gap == NULL) {
            Py_DECREF(parts);
            return NULL;
        }
        PyTuple_SET_ITEM(parts, 2 * c, gap);
        if (c < count) {
            PyTuple_SET_ITEM(parts, 2 * c + 1, Py_NewRef(chosen[c].rep));
            pos = chosen[c].end;
        }
    }
    PyObject *result = PyUnicode_Join(str_empty, parts);
    Py_DECREF(parts);
    return result;
}

/* Word k of the lazy Fisher-Yates visit: 1 replaced (a Choice filled), 0 skipped, -1 error. */
static int
visit(PyObject *text, const Words *w, Py_ssize_t k, Stream *st, const Config *cfg, Choice *out)
{
    PyObject *word = PyUnicode_Substring(text, w->start[k], w->end[k]);
    if (word == NULL)
        return -1;
    PyObject *cands = candidates(word, cfg);
    int status = 0, is_packed = cands != NULL && PyUnicode_Check(cands);
    Py_ssize_t ncand = 0;
    if (cands == NULL) {
        status = -1;
    } else if (!is_packed && !PyTuple_Check(cands)) {
        PyErr_SetString(PyExc_TypeError, "synonym candidates must be a tuple of str");
        status = -1;
    } else if ((ncand = is_packed ? packed_count(cands) : PyTuple_GET_SIZE(cands)) < 0) {
        status = -1;
    } else if (ncand > 0) {
        int keep = kept_as_name(text, word, w, k, cfg);
        if (keep < 0) {
            status = -1;
        } else if (!keep) {
            double rc = draw(st);
            Py_ssize_t idx = (Py_ssize_t)(rc * (double)ncand);
            PyObject *rep = NULL;
            if (rc == -1.0 && PyErr_Occurred()) {
                status = -1;
            } else if (idx < 0 || idx >= ncand) {
                PyErr_SetString(PyExc_ValueError, "rng.random() returned a number outside [0, 1)");
                status = -1;
            } else {
                PyObject *choice = is_packed ? packed_item(cands, idx) : Py_NewRef(PyTuple_GET_ITEM(cands, idx));
                if (choice != NULL && !is_case(word, 0)) {
                    rep = PyObject_CallFunctionObjArgs(cfg->match_case, word, choice, NULL);
                    Py_DECREF(choice);
                } else {
                    rep = choice;
                }
                if (rep != NULL && !PyUnicode_Check(rep)) {
                    PyErr_SetString(PyExc_TypeError, "a synonym must be a str");
                    Py_CLEAR(rep);
                }
                status = rep == NULL ? -1 : 1;
            }
            if (status == 1) {
                out->start = w->start[k];
                out->end = w->end[k];
                out->rep = rep;
            }
        }
    }
    Py_XDECREF(cands);
    Py_DECREF(word);
    return status;
}

/* _replace_by_pieces for one str: a new reference to the new text, Py_None (new ref), or NULL.
 * The text is scanned in place: a word is only copied out when the random visit reaches it. */
static PyObject *
replace_one(PyObject *text, Stream *st, const Config *cfg)
{
    PyObject *result = NULL;
    Py_ssize_t small_order[SMALL], *order = small_order, n, count = 0;
    Choice small_chosen[4], *chosen = small_chosen;
    Words w;
    w.start = w.small_start;
    w.end = w.small_end;
    w.n = 0;
    w.cap = SMALL;
    const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);

    for (Py_ssize_t a = 0, b = 0; b <= len; b++) { /* the pieces between single spaces */
        if (b < len && PyUnicode_READ(kind, data, b) != ' ')
            continue;
        int status = is_alpha(kind, data, a, b) ? words_add(&w, a, b) : piece_words(text, a, b, &w, cfg);
        if (status < 0)
            goto done;
        a = b + 1;
    }
    const Py_ssize_t nw = w.n;
    n = nw ? aug_count(nw, cfg->aug_p, cfg->aug_min, cfg->aug_max) : 0;
    if (n <= 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (n > nw)
        n = nw; /* no more than nw words can change; bounds the chosen array */
    if (nw > SMALL)
        order = PyMem_Malloc((size_t)nw * sizeof(Py_ssize_t));
    if (n > 4)
        chosen = PyMem_Malloc((size_t)n * sizeof(Choice));
    if (order == NULL || chosen == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nw; i++)
        order[i] = i;
    for (Py_ssize_t i = 0; i < nw; i++) { /* lazy Fisher-Yates over the word indices */
        double r = draw(st);
        if (r == -1.0 && PyErr_Occurred())
            goto done;
        Py_ssize_t j = i + (Py_ssize_t)(r * (double)(nw - i));
        if (j < i || j >= nw) {
            PyErr_SetString(PyExc_ValueError, "rng.random() returned a number outside [0, 1)");
            goto done;
        }
        Py_ssize_t k = order[j];
        order[j] = order[i];
        int status = visit(text, &w, k, st, cfg, &chosen[count]);
        if (status < 0)
            goto done;
        count += status;
        if (count >= n)
            break;
    }
    if (count == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (count > 1)
        qsort(chosen, (size_t)count, sizeof(Choice), choice_cmp);
    result = splice(text, chosen, count);

done:
    for (Py_ssize_t c = 0; c < count; c++)
        Py_DECREF(chosen[c].rep);
    if (chosen != small_chosen)
        PyMem_Free(chosen);
    if (order != small_order)
        PyMem_Free(order);
    if (w.start != w.small_start) {
        PyMem_Free(w.start);
        PyMem_Free(w.end);
    }
    return result;
}

/* TypeError naming the type and the start of the repr, as synonym.py raises it. */
static void
not_a_str(PyObject *text)
{
    PyObject *name = PyObject_GetAttrString((PyObject *)Py_TYPE(text), "__name__");
    PyObject *repr = name ? PyObject_Repr(text) : NULL;
    PyObject *head = repr ? PyUnicode_Substring(repr, 0, 80) : NULL;
    if (head != NULL)
        PyErr_Format(PyExc_TypeError, "expected a str, got %U: %U", name, head);
    Py_XDECREF(name);
    Py_XDECREF(repr);
    Py_XDECREF(head);
}

PyDoc_STRVAR(replace_batch_doc,
"replace_batch(texts, rngs, p, aug_p, aug_min, aug_max, keep_proper_nouns, pieces, memo, packed,\n"
"              piece_words, fill, match_case, stopwords, surface) -> list[str | None]\n\n"
"SynonymReplacement.augment_batch on the pieces path (aug_max < 0 means no limit). Each entry of\n"
"rngs is a random.Random, or an int: the seed of random.Random(seed), whose stream is drawn here\n"
"without building the object. stopwords and surface (synonym_lookup.surface_forms) may be None:\n"
"then every first look-up calls fill. packed is the loop's own memo of surface-table values.\n"
"One output per text: the new text, or None when p skipped it\n"
"or nothing changed.");

static PyObject *
replace_batch(PyObject *module, PyObject *args)
{
    PyObject *texts, *rngs, *seq_t = NULL, *seq_r = NULL, *out = NULL, *stop, *surface;
    double p;
    Config cfg;
    if (!PyArg_ParseTuple(args, "OOddnnpO!O!O!OOOOO:replace_batch", &texts, &rngs, &p, &cfg.aug_p, &cfg.aug_min,
                          &cfg.aug_max, &cfg.keep, &PyDict_Type, &cfg.pieces, &PyDict_Type, &cfg.memo,
                          &PyDict_Type, &cfg.packed,
                          &cfg.piece_words, &cfg.fill, &cfg.match_case, &stop, &surface))
        return NULL;
    if ((stop == Py_None) != (surface == Py_None) || (stop != Py_None && !PyAnySet_Check(stop))
        || (surface != Py_None && !PyDict_Check(surface))) {
        PyErr_SetString(PyExc_TypeError, "stopwords and surface must be a set and a dict, or both None");
        return NULL;
    }
    cfg.stop = stop == Py_None ? NULL : stop;
    cfg.surface = surface == Py_None ? NULL : surface;
    seq_t = PySequence_Fast(texts, "texts must be a sequence");
    seq_r = seq_t ? PySequence_Fast(rngs, "rngs must be a sequence") : NULL;
    if (seq_r == NULL)
        goto fail;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq_t);
    if (n != PySequence_Fast_GET_SIZE(seq_r)) {
        PyErr_Format(PyExc_ValueError, "got %zd texts but %zd random generators", n, PySequence_Fast_GET_SIZE(seq_r));
        goto fail;
    }
    out = PyList_New(n);
    if (out == NULL)
        goto fail;
    Stream st;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *text = PySequence_Fast_GET_ITEM(seq_t, i), *rng = PySequence_Fast_GET_ITEM(seq_r, i), *res;
        if (PyLong_Check(rng)) { /* a seed: random.Random(seed)'s stream */
            unsigned long long seed = PyLong_AsUnsignedLongLong(rng);
            if (seed == (unsigned long long)-1 && PyErr_Occurred()) {
                PyErr_SetString(PyExc_ValueError, "a seed must be an int in [0, 2**64)");
                goto fail;
            }
            st.rng = NULL;
            mt_seed(&st.mt, seed);
        } else {
            st.rng = rng;
        }
        double r = draw(&st); /* the p draw of Augmenter._should_apply */
        if (r == -1.0 && PyErr_Occurred())
            goto fail;
        if (!(r < p)) {
            PyList_SET_ITEM(out, i, Py_NewRef(Py_None));
            continue;
        }
        if (!PyUnicode_Check(text)) {
            not_a_str(text);
            goto fail;
        }
        res = replace_one(text, &st, &cfg);
        if (res == NULL)
            goto fail;
        if (res != Py_None) {
            int same = PyObject_RichCompareBool(res, text, Py_EQ);
            if (same < 0) {
                Py_DECREF(res);
                goto fail;
            }
            if (same) {
                Py_DECREF(res);
                res = Py_NewRef(Py_None);
            }
        }
        PyList_SET_ITEM(out, i, res);
    }
    Py_DECREF(seq_t);
    Py_DECREF(seq_r);
    return out;
fail:
    Py_XDECREF(seq_t);
    Py_XDECREF(seq_r);
    Py_XDECREF(out);
    return NULL;
}

static PyMethodDef methods[] = {
    {"replace_batch", replace_batch, METH_VARARGS, replace_batch_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_synonym_native",
    "Compiled hot loop of nlp_balance's SynonymReplacement (optional; same output as the Python loop).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__synonym_native(void)
{
    genrand_base[0] = 19650218U; /* CPython's init_genrand(19650218) */
    for (int i = 1; i < MT_N; i++)
        genrand_base[i] = 1812433253U * (genrand_base[i - 1] ^ (genrand_base[i - 1] >> 30)) + (uint32_t)i;
    str_random = PyUnicode_InternFromString("random");
    str_sep = PyUnicode_FromString("|");
    str_empty = PyUnicode_FromString("");
    empty_tuple = PyTuple_New(0);
    if (!str_random || !str_sep || !str_empty || !empty_tuple)
        return NULL;
    return PyModule_Create(&module_def);
}
