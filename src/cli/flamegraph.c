/* A flame graph in SVG, drawn from collapsed stacks (the picture
 * flamegraph.pl draws; Debian packages no flame-graph tool). Stacks are
 * sorted by their frames so equal prefixes are adjacent, then one pass
 * merges each run of equal frames at a depth into one box whose width is
 * its share of the samples. The file is static SVG: a <title> on each box
 * gives its name and counts as a tooltip; no script. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

#define IMAGE_WIDTH 1200.0
#define PAD 10.0
#define FRAME_HEIGHT 16.0
#define FONT_SIZE 11.0
#define CHAR_WIDTH 6.6 /* an average glyph at FONT_SIZE, for trimming labels */
#define TOP 36.0       /* room for the title */

typedef struct box {
    size_t depth;
    const char *name;
    uint64_t start, end; /* in samples */
} box_t;

static const cli_flame_stack_t *sort_base;

static int stack_cmp(const void *pa, const void *pb)
{
    const cli_flame_stack_t *a = &sort_base[*(const size_t *)pa];
    const cli_flame_stack_t *b = &sort_base[*(const size_t *)pb];
    for (size_t i = 0; i < a->nframes && i < b->nframes; i++) {
        int c = strcmp(a->frames[i], b->frames[i]);
        if (c)
            return c;
    }
    return (a->nframes > b->nframes) - (a->nframes < b->nframes);
}

static void xml_text(FILE *f, const char *s, size_t max_chars)
{
    size_t n = 0;
    for (; *s && n < max_chars; s++, n++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A warm colour that is the same for the same name in every picture. */
static void box_colour(const char *name, unsigned *r, unsigned *g, unsigned *b)
{
    uint32_t h = 2166136261u;
    for (const char *c = name; *c; c++)
        h = (h ^ (uint8_t)*c) * 16777619u;
    *r = 205 + (h % 51);
    *g = (h >> 8) % 180 + 40;
    *b = (h >> 16) % 56;
}

static bool push_box(box_t **boxes, size_t *n, size_t *cap, box_t b)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        box_t *p = realloc(*boxes, c * sizeof *p);
        if (!p)
            return false;
        *boxes = p;
        *cap = c;
    }
    (*boxes)[(*n)++] = b;
    return true;
}

bool cli_flamegraph_write(FILE *f, const char *title, const cli_flame_stack_t *stacks,
                          size_t nstacks)
{
    size_t *order = malloc((nstacks ? nstacks : 1) * sizeof *order);
    size_t max_depth = 0;
    for (size_t i = 0; i < nstacks; i++)
        if (stacks[i].nframes > max_depth)
            max_depth = stacks[i].nframes;
    uint64_t *open_at = calloc(max_depth ? max_depth : 1, sizeof *open_at);
    box_t *boxes = NULL;
    size_t nboxes = 0, cap = 0;
    bool ok = order && open_at;
    for (size_t i = 0; ok && i < nstacks; i++)
        order[i] = i;
    if (ok) {
        sort_base = stacks;
        qsort(order, nstacks, sizeof *order, stack_cmp);
    }
    /* Merge: frames shared with the previous stack stay open; the rest of
     * the previous stack's frames close as boxes at the current x. */
    uint64_t x = 0;
    const cli_flame_stack_t *prev = NULL;
    for (size_t i = 0; ok && i <= nstacks; i++) {
        const cli_flame_stack_t *cur = i < nstacks ? &stacks[order[i]] : NULL;
        size_t common = 0;
        if (prev && cur)
            while (common < prev->nframes && common < cur->nframes &&
                   strcmp(prev->frames[common], cur->frames[common]) == 0)
                common++;
        if (prev)
            for (size_t d = prev->nframes; ok && d-- > common;)
                ok = push_box(&boxes, &nboxes, &cap,
                              (box_t){d, prev->frames[d], open_at[d], x});
        if (cur) {
            for (size_t d = common; d < cur->nframes; d++)
                open_at[d] = x;
            x += cur->count;
        }
        prev = cur;
    }
    if (ok) {
        uint64_t total = x ? x : 1;
        double height = TOP + (double)(max_depth + 1) * FRAME_HEIGHT + PAD;
        double scale = (IMAGE_WIDTH - 2 * PAD) / (double)total;
        fprintf(f,
                "<?xml version=\"1.0\" standalone=\"no\"?>\n"
                "<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                "xmlns=\"http://www.w3.org/2000/svg\">\n"
                "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#f8f8f0\"/>\n"
                "<text x=\"%.0f\" y=\"22\" text-anchor=\"middle\" font-family=\"Verdana,sans-serif\" "
                "font-size=\"15\">",
                IMAGE_WIDTH, height, IMAGE_WIDTH, height, IMAGE_WIDTH / 2);
        xml_text(f, title, 400);
        fputs("</text>\n", f);
        fprintf(f, "<g font-family=\"Verdana,sans-serif\" font-size=\"%.0f\">\n", FONT_SIZE);
        for (size_t i = 0; i < nboxes; i++) {
            const box_t *b = &boxes[i];
            double w = (double)(b->end - b->start) * scale;
            if (w < 0.3)
                continue; /* too thin to see; its samples still count above */
            double bx = PAD + (double)b->start * scale;
            double by = height - PAD - (double)(b->depth + 1) * FRAME_HEIGHT;
            unsigned r, g, bl;
            box_colour(b->name, &r, &g, &bl);
            fputs("<g><title>", f);
            xml_text(f, b->name, 2000);
            fprintf(f, " (%llu sample%s, %.2f%%)</title>", (unsigned long long)(b->end - b->start),
                    b->end - b->start == 1 ? "" : "s", 100.0 * (double)(b->end - b->start) / (double)total);
            fprintf(f,
                    "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" rx=\"2\" "
                    "fill=\"rgb(%u,%u,%u)\"/>",
                    bx, by, w, FRAME_HEIGHT - 1, r, g, bl);
            size_t fit = w > 6 ? (size_t)((w - 6) / CHAR_WIDTH) : 0;
            if (fit >= 3) {
                size_t len = strlen(b->name);
                fprintf(f, "<text x=\"%.2f\" y=\"%.1f\">", bx + 3, by + FRAME_HEIGHT - 4.5);
                if (len <= fit) {
                    xml_text(f, b->name, len);
                } else {
                    /* Cut at a character boundary, not inside a UTF-8 sequence. */
                    size_t keep = fit - 2;
                    while (keep > 0 && ((unsigned char)b->name[keep] & 0xc0) == 0x80)
                        keep--;
                    xml_text(f, b->name, keep);
                    fputs("..", f);
                }
                fputs("</text>", f);
            }
            fputs("</g>\n", f);
        }
        fputs("</g>\n</svg>\n", f);
    }
    free(order);
    free(open_at);
    free(boxes);
    return ok;
}
