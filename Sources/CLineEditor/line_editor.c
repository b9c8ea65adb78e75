#include "CLineEditor.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

// The editline functions the REPL uses, resolved once from the shared library Debian's libedit2
// installs (the readline-compatible interface of <editline/readline.h>).
static struct {
    char *(*readline)(const char *);
    int (*add_history)(const char *);
    int (*read_history)(const char *);
    int (*write_history)(const char *);
} editline;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded;

static void load(void) {
    void *library = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return;
    editline.readline = (char *(*)(const char *))dlsym(library, "readline");
    editline.add_history = (int (*)(const char *))dlsym(library, "add_history");
    editline.read_history = (int (*)(const char *))dlsym(library, "read_history");
    editline.write_history = (int (*)(const char *))dlsym(library, "write_history");
    loaded = editline.readline && editline.add_history && editline.read_history && editline.write_history;
}

int cx_edit_available(void) {
    pthread_once(&load_once, load);
    return loaded;
}

char *cx_edit_readline(const char *prompt) {
    return cx_edit_available() ? editline.readline(prompt) : NULL;
}

void cx_edit_add_history(const char *line) {
    if (cx_edit_available()) editline.add_history(line);
}

void cx_edit_read_history(const char *path) {
    if (cx_edit_available()) editline.read_history(path);
}

void cx_edit_write_history(const char *path) {
    if (cx_edit_available()) editline.write_history(path);
}
