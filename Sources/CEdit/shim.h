// libedit (BSD editline): line editing and history for `cxrun repl` on a terminal.
#include <stdio.h>
#include <editline/readline.h>
