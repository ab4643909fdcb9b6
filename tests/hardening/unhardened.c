/* Built with every protection switched off, so check-hardening.sh can
 * show that each of its checks rejects a binary that lacks it. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char line[64];

    memcpy(line, argv[0], strnlen(argv[0], sizeof line - 1) + 1);
    line[sizeof line - 1] = '\0';
    printf("%s %d\n", line, argc);
    return 0;
}
