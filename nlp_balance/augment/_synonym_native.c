/*
 * Compiled hot loop of SynonymReplacement (the space-separated pieces path).
 *
 * A port of SynonymReplacement.augment_batch + _replace_by_pieces in synonym.py that must give the
 * same text for the same random stream: the same draws from each example's random.Random, in the
 * same order, the same word visited, the same candidate taken. It scans the text in place instead
 * of splitting it, which is where the pure-Python loop spends its time.
 *
 * What runs rarely calls back into the Python methods, so those rules have one implementation:
 * analysing a piece that is not all letters (_piece_words), looking a word up for the first time
 * (_fill) and case matching (match_case). Three small rules are repeated here because they run on
 * most texts: str.isalpha / islower / isupper (as CPython defines them) and the sentence-start check
 * of the name rule (_starts_sentence / _follows_sentence_end).
 *
 * The module is optional: without it (no C compiler at install) synonym.py runs the Python loop.
 * tests/augment/test_synonym_native.py checks that both give the same text, including on arbitrary
 * strings with candidates injected for every word, and that nothing leaks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *str_random;  /* interned "random" */
static PyObject *str_space;   /* " " */
static PyObject *str_empty;   /* "" */

/* One draw from rng.random(); -1.0 with an exception set on failure. */
static double
draw(PyObject *rng)
{
    PyObject *args[1] = {rng};
    PyObject *value = PyObject_VectorcallMethod(str_random, args, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (value == NULL)
        return -1.0;
    double x = PyFloat_AsDouble(value);
    Py_DECREF(value);
    return x; /* -1.0 with an error set when value was not a number */
}

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
            if (ch < 128 ? !(((ch | 0x20) >= 'a') && ((ch | 0x20) <= 'z')) : !Py_UNICODE_ISALPHA(ch))
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

/* dict[key] as a new reference; when missing, fn(key, dict) computes it (and stores it there). */
static PyObject *
memoised(PyObject *dict, PyObject *key, PyObject *fn)
{
    PyObject *found = PyDict_GetItemWithError(dict, key);
    if (found != NULL)
        return Py_NewRef(found);
    if (PyErr_Occurred())
        return NULL;
    return PyObject_CallFunctionObjArgs(fn, key, dict, NULL);
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
    PyObject *pieces, *memo;                             /* dicts owned by the augmenter */
    PyObject *piece_words, *fill, *match_case;          /* Python callables */
} Config;

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

/* End (in its piece) of the last word of piece j, or of word w of it when w >= 0. */
static Py_ssize_t
word_end(PyObject **spans, const Py_ssize_t *at, Py_ssize_t j, Py_ssize_t w)
{
    if (spans[j] == NULL)
        return at[j + 1] - 1 - at[j];
    PyObject *pair = PyTuple_GET_ITEM(spans[j], w >= 0 ? w : PyTuple_GET_SIZE(spans[j]) - 1);
    return PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
}

/* SynonymReplacement keeps a capitalised word (a name, most likely) unless it starts a sentence;
 * all-capital words and the first word are not names. This is _follows_sentence_end of
 * synonym.py on the text in place: the separator runs from the end of word k - 1 to the start of
 * word k (at s in piece t). 1 keep, 0 replace, -1 error. */
static int
kept_as_name(PyObject *text, PyObject *word, const Py_ssize_t *at, const Py_ssize_t *cum, PyObject **spans,
             Py_ssize_t t, Py_ssize_t k, Py_ssize_t s, const Config *cfg)
{
    if (!cfg->keep || k == 0 || PyUnicode_GET_LENGTH(word) == 0 || !Py_UNICODE_ISUPPER(PyUnicode_READ_CHAR(word, 0)))
        return 0;
    if (is_case(word, 1))
        return 0;
    Py_ssize_t j = t, end;
    if (k > cum[t]) { /* the previous word is in the same piece */
        end = word_end(spans, at, t, k - cum[t] - 1);
    } else {
        j = t - 1;
        while (cum[j + 1] == cum[j]) /* pieces without words */
            j--;
        end = word_end(spans, at, j, -1);
    }
    if (end == -1 && PyErr_Occurred())
        return -1;
    return !starts_sentence(PyUnicode_KIND(text), PyUnicode_DATA(text), at[j] + end, at[t] + s);
}

#define SMALL 64 /* pieces per text handled without a heap allocation */

/* _replace_by_pieces for one str: a new reference to the new text, Py_None (new ref), or NULL.
 * The text is scanned in place: a piece is only copied out when it is not all letters (to look
 * its words up in the piece memo) and a word only when the random visit reaches it. */
static PyObject *
replace_one(PyObject *text, PyObject *rng, const Config *cfg)
{
    PyObject *result = NULL, *small_spans[SMALL];
    Py_ssize_t small_cum[SMALL + 1], small_at[SMALL + 1], small_order[SMALL];
    Py_ssize_t *cum = small_cum, *at = small_at, *order = small_order, ntok = 1, nw, n, count = 0;
    PyObject **spans = small_spans;
    Choice small_chosen[4], *chosen = small_chosen;
    const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);

    for (Py_ssize_t i = 0; i < len; i++)
        ntok += PyUnicode_READ(kind, data, i) == ' ';
    if (ntok > SMALL) {
        cum = PyMem_Malloc((size_t)(ntok + 1) * sizeof(Py_ssize_t));
        at = PyMem_Malloc((size_t)(ntok + 1) * sizeof(Py_ssize_t));
        spans = PyMem_Malloc((size_t)ntok * sizeof(PyObject *));
        if (cum == NULL || at == NULL || spans == NULL) {
            PyErr_NoMemory();
            ntok = 0; /* nothing in spans to release */
            goto done;
        }
    }
    for (Py_ssize_t t = 0; t < ntok; t++)
        spans[t] = NULL;
    /* at[t]: where piece t starts; piece t ends one character before at[t + 1] */
    at[0] = 0;
    for (Py_ssize_t i = 0, t = 1; i < len; i++) {
        if (PyUnicode_READ(kind, data, i) == ' ')
            at[t++] = i + 1;
    }
    at[ntok] = len + 1;
    cum[0] = 0;
    for (Py_ssize_t t = 0; t < ntok; t++) {
        Py_ssize_t a = at[t], b = at[t + 1] - 1, c = 1;
        if (!is_alpha(kind, data, a, b)) {
            PyObject *piece = PyUnicode_Substring(text, a, b);
            if (piece == NULL)
                goto done;
            PyObject *found = memoised(cfg->pieces, piece, cfg->piece_words);
            Py_DECREF(piece);
            if (found == NULL)
                goto done;
            spans[t] = found;
            if (!PyTuple_Check(found)) {
                PyErr_SetString(PyExc_TypeError, "_piece_words must return a tuple of (start, end) pairs");
                goto done;
            }
            c = PyTuple_GET_SIZE(found);
        }
        cum[t + 1] = cum[t] + c;
    }
    nw = cum[ntok];
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
        double r = draw(rng);
        if (r == -1.0 && PyErr_Occurred())
            goto done;
        Py_ssize_t j = i + (Py_ssize_t)(r * (double)(nw - i));
        if (j < i || j >= nw) {
            PyErr_SetString(PyExc_ValueError, "rng.random() returned a number outside [0, 1)");
            goto done;
        }
        Py_ssize_t k = order[j];
        order[j] = order[i];
        Py_ssize_t lo = 0, hi = ntok + 1; /* bisect_right(cum, k) - 1: the piece holding word k */
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2;
            if (k < cum[mid])
                hi = mid;
            else
                lo = mid + 1;
        }
        Py_ssize_t t = lo - 1, s = 0, e = at[t + 1] - 1 - at[t];
        if (spans[t] != NULL) {
            PyObject *pair = PyTuple_GET_ITEM(spans[t], k - cum[t]);
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                PyErr_SetString(PyExc_TypeError, "_piece_words must return a tuple of (start, end) pairs");
                goto done;
            }
            s = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 0));
            e = PyLong_AsSsize_t(PyTuple_GET_ITEM(pair, 1));
            if ((s == -1 || e == -1) && PyErr_Occurred())
                goto done;
        }
        PyObject *word = PyUnicode_Substring(text, at[t] + s, at[t] + e);
        if (word == NULL)
            goto done;
        PyObject *cands = memoised(cfg->memo, word, cfg->fill);
        if (cands == NULL) {
            Py_DECREF(word);
            goto done;
        }
        int status = 0; /* 0 skip, 1 replaced, -1 error */
        if (!PyTuple_Check(cands)) {
            PyErr_SetString(PyExc_TypeError, "synonym candidates must be a tuple of str");
            status = -1;
        } else if (PyTuple_GET_SIZE(cands) > 0) {
            int keep = kept_as_name(text, word, at, cum, spans, t, k, s, cfg);
            if (keep < 0) {
                status = -1;
            } else if (!keep) {
                Py_ssize_t ncand = PyTuple_GET_SIZE(cands);
                double rc = draw(rng);
                Py_ssize_t idx = (Py_ssize_t)(rc * (double)ncand);
                PyObject *rep = NULL;
                if (rc == -1.0 && PyErr_Occurred()) {
                    status = -1;
                } else if (idx < 0 || idx >= ncand) {
                    PyErr_SetString(PyExc_ValueError, "rng.random() returned a number outside [0, 1)");
                    status = -1;
                } else {
                    PyObject *choice = PyTuple_GET_ITEM(cands, idx);
                    if (is_case(word, 0))
                        rep = Py_NewRef(choice);
                    else
                        rep = PyObject_CallFunctionObjArgs(cfg->match_case, word, choice, NULL);
                    if (rep != NULL && !PyUnicode_Check(rep)) {
                        PyErr_SetString(PyExc_TypeError, "a synonym must be a str");
                        Py_CLEAR(rep);
                    }
                    status = rep == NULL ? -1 : 1;
                }
                if (status == 1) {
                    chosen[count].start = at[t] + s;
                    chosen[count].end = at[t] + e;
                    chosen[count].rep = rep;
                    count++;
                }
            }
        }
        Py_DECREF(cands);
        Py_DECREF(word);
        if (status < 0)
            goto done;
        if (count >= n)
            break;
    }
    if (count == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (count > 1)
        qsort(chosen, (size_t)count, sizeof(Choice), choice_cmp);
    /* text[:start_1] + rep_1 + text[end_1:start_2] + ... + rep_n + text[end_n:] */
    int ascii = PyUnicode_IS_ASCII(text);
    Py_ssize_t size = len;
    for (Py_ssize_t c = 0; c < count; c++) {
        ascii = ascii && PyUnicode_IS_ASCII(chosen[c].rep);
        size += PyUnicode_GET_LENGTH(chosen[c].rep) - (chosen[c].end - chosen[c].start);
    }
    if (ascii) { /* one allocation, copied in place (ASCII is always stored one byte a character) */
        result = PyUnicode_New(size, 127);
        if (result == NULL)
            goto done;
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
        goto done;
    }
    PyObject *parts = PyTuple_New(2 * count + 1); /* any other text: join canonical substrings */
    if (parts == NULL)
        goto done;
    Py_ssize_t pos = 0;
    for (Py_ssize_t c = 0; c <= count; c++) {
        PyObject *gap = PyUnicode_Substring(text, pos, c < count ? chosen[c].start : len);
        if (gap == NULL) {
            Py_DECREF(parts);
            goto done;
        }
        PyTuple_SET_ITEM(parts, 2 * c, gap);
        if (c < count) {
            PyTuple_SET_ITEM(parts, 2 * c + 1, Py_NewRef(chosen[c].rep));
            pos = chosen[c].end;
        }
    }
    result = PyUnicode_Join(str_empty, parts);
    Py_DECREF(parts);

done:
    for (Py_ssize_t c = 0; c < count; c++)
        Py_DECREF(chosen[c].rep);
    for (Py_ssize_t t = 0; t < ntok; t++)
        Py_XDECREF(spans[t]);
    if (chosen != small_chosen)
        PyMem_Free(chosen);
    if (order != small_order)
        PyMem_Free(order);
    if (spans != small_spans)
        PyMem_Free(spans);
    if (at != small_at)
        PyMem_Free(at);
    if (cum != small_cum)
        PyMem_Free(cum);
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
"replace_batch(texts, rngs, p, aug_p, aug_min, aug_max, keep_proper_nouns, pieces, memo,\n"
"              piece_words, fill, match_case) -> list[str | None]\n\n"
"SynonymReplacement.augment_batch on the pieces path (aug_max < 0 means no limit).\n"
"One output per text: the new text, or None when p skipped it or nothing changed.");

static PyObject *
replace_batch(PyObject *module, PyObject *args)
{
    PyObject *texts, *rngs, *seq_t = NULL, *seq_r = NULL, *out = NULL;
    double p;
    Config cfg;
    if (!PyArg_ParseTuple(args, "OOddnnpO!O!OOO:replace_batch", &texts, &rngs, &p, &cfg.aug_p, &cfg.aug_min,
                          &cfg.aug_max, &cfg.keep, &PyDict_Type, &cfg.pieces, &PyDict_Type, &cfg.memo,
                          &cfg.piece_words, &cfg.fill, &cfg.match_case))
        return NULL;
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
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *text = PySequence_Fast_GET_ITEM(seq_t, i), *rng = PySequence_Fast_GET_ITEM(seq_r, i), *res;
        double r = draw(rng); /* the p draw of Augmenter._should_apply */
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
        res = replace_one(text, rng, &cfg);
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
    str_random = PyUnicode_InternFromString("random");
    str_space = PyUnicode_FromString(" ");
    str_empty = PyUnicode_FromString("");
    if (!str_random || !str_space || !str_empty)
        return NULL;
    return PyModule_Create(&module_def);
}
