/* Reads stdin to the end and reports its size in bytes and lines, its first
 * line in upper case and its last line, so that the driver can compare them
 * with wc, head and tail. */
#include <ctype.h>
#include <stdio.h>

int main(void)
{
    static char first[256], line[256], last[256];
    size_t nfirst = 0, nline = 0, bytes = 0, lines = 0;
    int c;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (c == '\n') {
            line[nline] = '\0';
            snprintf(last, sizeof last, "%s", line);
            nline = 0;
            lines++;
            continue;
        }
        if (lines == 0 && nfirst < sizeof first - 1)
            first[nfirst++] = (char)toupper(c);
        if (nline < sizeof line - 1)
            line[nline++] = (char)c;
    }
    if (ferror(stdin)) {
        perror("stdin");
        return 3;
    }
    printf("bytes=%zu lines=%zu\n", bytes, lines);
    printf("first=[%s]\n", first);
    printf("last=[%s]\n", last);
    return 0;
}
