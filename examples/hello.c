/* hello.wasm: a small WASI program, the main example of README and run.sh.
 *
 *   build/whirl run --dir examples::/examples build/examples/hello.wasm World
 *
 * It greets, lists its arguments, reads a file from the directory it was
 * given (/examples), and shows that the rest of the machine is out of reach:
 * opening /etc/passwd fails, because whirl gave it nothing but /examples. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    printf("Hello, %s! This is %s, running on whirl.\n", argc > 1 ? argv[1] : "world", argv[0]);
    for (int i = 2; i < argc; i++)
        printf("  argument %d: %s\n", i, argv[i]);

    const char *mine = "/examples/hello.c";
    FILE *f = fopen(mine, "r");
    if (f) {
        long lines = 0, bytes = 0;
        int c;
        while ((c = getc(f)) != EOF) {
            bytes++;
            lines += c == '\n';
        }
        fclose(f);
        printf("%s: %ld lines, %ld bytes\n", mine, lines, bytes);
    } else {
        printf("%s: %s (give me the directory with --dir examples::/examples)\n", mine,
               strerror(errno));
    }

    f = fopen("/etc/passwd", "r");
    printf("/etc/passwd: %s\n", f ? "readable (unexpected!)" : strerror(errno));
    if (f)
        fclose(f);
    return 0;
}
