#include "CLineEditor.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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

// What Tab completes: the names the session set before its prompt. Set and read on the thread
// that reads the line (one line is read at a time), so no lock.
static char **completions;
static int completion_count;

// libedit's completion entry function: the completions that start with `text`, one per call
// (state 0 starts over), malloc'd as readline frees them; NULL when there are no more.
static char *complete(const char *text, int state) {
    static int next;
    static size_t length;
    if (state == 0) {
        next = 0;
        length = strlen(text);
    }
    while (next < completion_count) {
        const char *name = completions[next++];
        if (strncmp(name, text, length) == 0) return strdup(name);
    }
    return NULL;
}

static void load(void) {
    void *library = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) return;
    editline.readline = (char *(*)(const char *))dlsym(library, "readline");
    editline.add_history = (int (*)(const char *))dlsym(library, "add_history");
    editline.read_history = (int (*)(const char *))dlsym(library, "read_history");
    editline.write_history = (int (*)(const char *))dlsym(library, "write_history");
    loaded = editline.readline && editline.add_history && editline.read_history && editline.write_history;
    if (!loaded) return;
    // Tab completes the session's names (not file names, libedit's default), adding nothing after
    // one: `cx.ea` becomes `cx.each`, ready for its `(`.
    char *(**entry)(const char *, int) = (char *(**)(const char *, int))dlsym(library, "rl_completion_entry_function");
    int *append = (int *)dlsym(library, "rl_completion_append_character");
    if (entry) *entry = complete;
    if (append) *append = '\0';
}

void cx_edit_set_completions(const char *const *names, int count) {
    for (int i = 0; i < completion_count; i++) free(completions[i]);
    free(completions);
    completions = NULL;
    completion_count = 0;
    if (count <= 0) return;
    completions = calloc((size_t)count, sizeof(char *));
    if (completions == NULL) return;
    for (int i = 0; i < count; i++) {
        if (names[i] == NULL) continue;
        char *copy = strdup(names[i]);
        if (copy == NULL) break;
        completions[completion_count++] = copy;
    }
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
