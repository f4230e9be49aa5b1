/* Live queries from a JSON spec: rows, ids and count; a list model in C driven by the diff
 * callback, checked against mizu_query_get / mizu_query_ids after every local and remote
 * write; and every kind of bad input, refused with a typed error. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

static bool contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

/* --- a tiny JSON reader, enough for the library's payloads ---------------------------------- */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* Reads the JSON string at `p` (ASCII escapes only) into `buf`; returns the end, or NULL. */
static const char *read_string(const char *p, char *buf, size_t size) {
    size_t n = 0;
    if (*p != '"') return NULL;
    for (p++; *p != '"'; p++) {
        char c = *p;
        if (c == '\0') return NULL;
        if (c == '\\') {
            p++;
            switch (*p) {
            case '"': case '\\': case '/': c = *p; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned code = 0;
                if (sscanf(p + 1, "%4x", &code) != 1 || code > 0x7f) return NULL;
                c = (char)code;
                p += 4;
                break;
            }
            default: return NULL;
            }
        }
        if (n + 1 >= size) return NULL;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return p + 1;
}

/* Returns the end of the JSON value at `p`, or NULL. */
static const char *skip_value(const char *p) {
    p = skip_ws(p);
    if (*p == '"') {
        for (p++; *p != '"'; p++) {
            if (*p == '\0') return NULL;
            if (*p == '\\' && *++p == '\0') return NULL;
        }
        return p + 1;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_ws(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (close == '}') {
                p = skip_value(p); /* the key */
                if (p == NULL || *(p = skip_ws(p)) != ':') return NULL;
                p++;
            }
            if ((p = skip_value(p)) == NULL) return NULL;
            p = skip_ws(p);
            if (*p == close) return p + 1;
            if (*p != ',') return NULL;
            p = skip_ws(p + 1);
        }
    }
    const char *start = p;
    while (*p != '\0' && strchr(",}] \n\t\r", *p) == NULL) p++;
    return p > start ? p : NULL;
}

/* The members of a row (`{"id","value"}`) or of a diff op
 * (`{"op","index","from","to","id","value"}`). */
typedef struct {
    char op[16];
    char id[64];
    long index, from, to;
    const char *value; /* points into the text; NULL when absent */
    size_t value_len;
} Fields;

/* Reads the object at `p` into `fields`; returns its end, or NULL (also for an unknown key). */
static const char *read_fields(const char *p, Fields *fields) {
    memset(fields, 0, sizeof *fields);
    fields->index = fields->from = fields->to = -1;
    p = skip_ws(p);
    if (*p++ != '{') return NULL;
    for (;;) {
        char key[16];
        p = read_string(skip_ws(p), key, sizeof key);
        if (p == NULL || *(p = skip_ws(p)) != ':') return NULL;
        p = skip_ws(p + 1);
        const char *end;
        if (strcmp(key, "op") == 0) {
            end = read_string(p, fields->op, sizeof fields->op);
        } else if (strcmp(key, "id") == 0) {
            end = read_string(p, fields->id, sizeof fields->id);
        } else if (strcmp(key, "index") == 0 || strcmp(key, "from") == 0 ||
                   strcmp(key, "to") == 0) {
            char *stop = NULL;
            long n = strtol(p, &stop, 10);
            *(key[0] == 'i' ? &fields->index : key[0] == 'f' ? &fields->from : &fields->to) = n;
            end = stop > p ? stop : NULL;
        } else if (strcmp(key, "value") == 0) {
            end = skip_value(p);
            fields->value = p;
            fields->value_len = end ? (size_t)(end - p) : 0;
        } else {
            return NULL;
        }
        if (end == NULL) return NULL;
        p = skip_ws(end);
        if (*p == '}') return p + 1;
        if (*p++ != ',') return NULL;
    }
}

/* --- a list model driven by the diff callback ------------------------------------------------ */

#define MAX_ROWS 32

typedef struct {
    pthread_mutex_t lock;
    pthread_t main_thread;
    size_t len;
    char ids[MAX_ROWS][64];
    char *values[MAX_ROWS]; /* JSON text, malloc'd */
    int results, diffs;     /* events seen */
    int removed, inserted, moved, updated;
    int elsewhere; /* events delivered on another thread than the test's */
    int bad;       /* events or ops that did not fit the model */
} ListModel;

static void model_init(ListModel *model) {
    memset(model, 0, sizeof *model);
    pthread_mutex_init(&model->lock, NULL);
    model->main_thread = pthread_self();
}

static void model_clear(ListModel *model) {
    for (size_t i = 0; i < model->len; i++) free(model->values[i]);
    model->len = 0;
}

static void model_destroy(ListModel *model) {
    model_clear(model);
    pthread_mutex_destroy(&model->lock);
}

static bool model_insert(ListModel *model, long index, const char *id, const char *value,
                         size_t len) {
    if (index < 0 || (size_t)index > model->len || model->len == MAX_ROWS) return false;
    size_t after = model->len - (size_t)index;
    memmove(&model->ids[index + 1], &model->ids[index], after * sizeof model->ids[0]);
    memmove(&model->values[index + 1], &model->values[index], after * sizeof(char *));
    snprintf(model->ids[index], sizeof model->ids[index], "%s", id);
    model->values[index] = strndup(value, len);
    model->len++;
    return true;
}

/* Takes the row at `index` out; its value goes to `*value` (or is freed when NULL). */
static bool model_remove(ListModel *model, long index, const char *id, char **value) {
    if (index < 0 || (size_t)index >= model->len || strcmp(model->ids[index], id) != 0)
        return false;
    if (value != NULL) *value = model->values[index];
    else free(model->values[index]);
    size_t after = model->len - (size_t)index - 1;
    memmove(&model->ids[index], &model->ids[index + 1], after * sizeof model->ids[0]);
    memmove(&model->values[index], &model->values[index + 1], after * sizeof(char *));
    model->len--;
    return true;
}

/* Applies one op of a diff, in order, as a list UI would. */
static bool model_apply(ListModel *model, const Fields *op) {
    if (strcmp(op->op, "removed") == 0) {
        model->removed++;
        return model_remove(model, op->index, op->id, NULL);
    }
    if (strcmp(op->op, "inserted") == 0) {
        model->inserted++;
        return op->value != NULL &&
               model_insert(model, op->index, op->id, op->value, op->value_len);
    }
    if (strcmp(op->op, "moved") == 0) {
        model->moved++;
        char *value = NULL;
        if (!model_remove(model, op->from, op->id, &value)) return false;
        bool ok = model_insert(model, op->to, op->id, value, strlen(value));
        free(value);
        return ok;
    }
    if (strcmp(op->op, "updated") == 0) {
        model->updated++;
        if (op->value == NULL || op->index < 0 || (size_t)op->index >= model->len ||
            strcmp(model->ids[op->index], op->id) != 0)
            return false;
        free(model->values[op->index]);
        model->values[op->index] = strndup(op->value, op->value_len);
        return true;
    }
    return false;
}

/* Reads `[item, ...]` at `p`, handing each object's fields to `model`: rows for a result, ops
 * for a diff. */
static bool model_read(ListModel *model, const char *p, bool result) {
    p = skip_ws(p);
    if (*p++ != '[') return false;
    p = skip_ws(p);
    if (*p == ']') return true;
    for (;;) {
        Fields fields;
        if ((p = read_fields(p, &fields)) == NULL) return false;
        bool ok = result ? fields.value != NULL && model_insert(model, (long)model->len, fields.id,
                                                                fields.value, fields.value_len)
                         : model_apply(model, &fields);
        if (!ok) return false;
        p = skip_ws(p);
        if (*p == ']') return true;
        if (*p++ != ',') return false;
    }
}

/* The query callback: `{"result": [rows]}` first, then `{"diff": [ops]}`. */
static void on_query_event(void *user_data, const char *json) {
    ListModel *model = user_data;
    pthread_mutex_lock(&model->lock);
    if (!pthread_equal(pthread_self(), model->main_thread)) model->elsewhere++;
    char key[16];
    const char *p = json[0] == '{' ? read_string(skip_ws(json + 1), key, sizeof key) : NULL;
    bool ok = p != NULL && *(p = skip_ws(p)) == ':';
    if (ok && strcmp(key, "result") == 0) {
        model->results++;
        model_clear(model);
        ok = model_read(model, p + 1, true);
    } else if (ok && strcmp(key, "diff") == 0) {
        model->diffs++;
        ok = model_read(model, p + 1, false);
    } else {
        ok = false;
    }
    if (!ok) {
        fprintf(stderr, "    event that does not fit the model: %s\n", json);
        model->bad++;
    }
    pthread_mutex_unlock(&model->lock);
}

/* The model as mizu_query_get writes it: `[{"id":"a","value":V},...]` (malloc'd). */
static char *model_rows_json(ListModel *model) {
    size_t size = 3;
    for (size_t i = 0; i < model->len; i++)
        size += strlen(model->ids[i]) + strlen(model->values[i]) + 24;
    char *out = malloc(size), *at = out;
    at += sprintf(at, "[");
    for (size_t i = 0; i < model->len; i++)
        at += sprintf(at, "%s{\"id\":\"%s\",\"value\":%s}", i ? "," : "", model->ids[i],
                      model->values[i]);
    sprintf(at, "]");
    return out;
}

static char *query_rows(const MizuQuery *query) {
    char *text = NULL;
    if (mizu_query_get(query, &text) != MIZU_OK) return NULL;
    return take_string(text);
}

static char *query_ids(const MizuQuery *query) {
    char *text = NULL;
    if (mizu_query_ids(query, &text) != MIZU_OK) return NULL;
    return take_string(text);
}

typedef struct {
    ListModel *model;
    const MizuQuery *query;
    const char *expected_ids;
} Converged;

/* Whether the model equals the query's rows and the query's ids are the expected ones. */
static bool model_converged(void *ctx) {
    Converged *c = ctx;
    char *rows = query_rows(c->query), *ids = query_ids(c->query);
    pthread_mutex_lock(&c->model->lock);
    char *mine = model_rows_json(c->model);
    pthread_mutex_unlock(&c->model->lock);
    bool same = rows != NULL && ids != NULL && strcmp(mine, rows) == 0 &&
                strcmp(ids, c->expected_ids) == 0;
    free(mine);
    free(rows);
    free(ids);
    return same;
}

/* Checks, within a bounded wait, that the model converged to `expected_ids`, and the count. */
#define CHECK_MODEL(model, query, expected_ids, expected_count)                                 \
    do {                                                                                        \
        Converged converged_ = {(model), (query), (expected_ids)};                              \
        if (!wait_until(model_converged, &converged_, 10000)) {                                 \
            char *ids_ = query_ids(query);                                                      \
            pthread_mutex_lock(&(model)->lock);                                                 \
            char *mine_ = model_rows_json(model);                                               \
            pthread_mutex_unlock(&(model)->lock);                                               \
            char detail_[1024];                                                                 \
            snprintf(detail_, sizeof detail_, "ids %s, want %s; model %s", ids_ ? ids_ : "?",   \
                     (expected_ids), mine_);                                                    \
            check_fail(__FILE__, __LINE__, "model converges", detail_);                        \
            free(ids_);                                                                         \
            free(mine_);                                                                        \
        }                                                                                       \
        uint64_t count_ = 0;                                                                    \
        CHECK_OK(mizu_query_count((query), &count_));                                           \
        CHECK(count_ == (expected_count));                                                      \
    } while (0)

/* --- the tests ------------------------------------------------------------------------------ */

static MizuClient *new_client(const char *scope, bool start) {
    char *options = test_options(scope);
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    if (start) CHECK_OK(mizu_client_start(client));
    return client;
}

static bool idle(void *ctx) {
    char *status = NULL;
    if (mizu_client_status(ctx, &status) != MIZU_OK) return false;
    bool quiet = strstr(status, "\"syncing\":false") != NULL;
    mizu_string_free(status);
    return quiet;
}

/* Pauses a started client and waits until no request is in flight, so that freeing it leaves
 * no I/O thread finishing an abandoned request (which valgrind would see at exit). The sync
 * call is answered by the engine, after the pause: no request starts after it. */
static void quiesce(MizuClient *client) {
    CHECK_OK(mizu_client_pause(client));
    CHECK_STATUS(mizu_client_sync(client), MIZU_ERR_PAUSED);
    CHECK(wait_until(idle, client, 10000));
}

static void put_todo(const MizuCollection *todos, const char *id, const char *title, bool completed,
                     int priority) {
    char value[256];
    snprintf(value, sizeof value, "{\"title\":\"%s\",\"completed\":%s,\"priority\":%d}", title,
             completed ? "true" : "false", priority);
    CHECK_OK(mizu_collection_set(todos, id, value));
}

static void
diff_callback_keeps_a_c_list_model_equal_to_the_query_through_local_and_remote_writes(void) {
    const char *scope = test_scope("query-model");
    MizuClient *local = new_client(scope, true);
    MizuClient *remote = new_client(scope, true);
    MizuCollection *todos = NULL, *remote_todos = NULL;
    CHECK_OK(mizu_client_collection(local, "todo", &todos));
    CHECK_OK(mizu_client_collection(remote, "todo", &remote_todos));
    CHECK_OK(mizu_collection_ensure_index(todos, "priority"));

    put_todo(todos, "t1", "Milk", false, 1);
    put_todo(todos, "t2", "Bread", false, 2);
    put_todo(todos, "t3", "Eggs", true, 3);
    put_todo(todos, "t4", "Tea", false, 4);
    put_todo(todos, "t5", "Rice", false, 5);

    MizuQuery *open = NULL;
    CHECK_OK(mizu_collection_query(
        todos,
        "{\"filter\":{\"field\":\"completed\",\"op\":\"eq\",\"value\":false},"
        "\"order_by\":[{\"field\":\"priority\",\"order\":\"desc\"}],\"limit\":3}",
        &open));
    ListModel model;
    model_init(&model);
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_query_subscribe(open, on_query_event, &model, NULL, &subscription));
    CHECK(model.results == 1 && model.diffs == 0);
    CHECK_MODEL(&model, open, "[\"t5\",\"t4\",\"t2\"]", 4);

    /* Local writes: each one is one diff, delivered on this thread. */
    put_todo(todos, "t6", "Jam", false, 6); /* enters at the top, pushes t2 out of the window */
    CHECK_MODEL(&model, open, "[\"t6\",\"t5\",\"t4\"]", 5);
    put_todo(todos, "t4", "Tea", false, 7); /* moves to the top */
    CHECK_MODEL(&model, open, "[\"t4\",\"t6\",\"t5\"]", 5);
    put_todo(todos, "t6", "Strawberry jam", false, 6); /* same place, new value */
    CHECK_MODEL(&model, open, "[\"t4\",\"t6\",\"t5\"]", 5);
    put_todo(todos, "t5", "Rice", true, 5); /* leaves the filter; t2 comes back */
    CHECK_MODEL(&model, open, "[\"t4\",\"t6\",\"t2\"]", 4);
    CHECK_OK(mizu_collection_delete(todos, "t4"));
    CHECK_MODEL(&model, open, "[\"t6\",\"t2\",\"t1\"]", 3);
    pthread_mutex_lock(&model.lock);
    CHECK(model.diffs == 5);
    pthread_mutex_unlock(&model.lock);

    /* Remote writes: another client writes, the server has it, this client pulls. */
    CHECK_OK(mizu_client_flush(local, 10000));
    CHECK_OK(mizu_client_sync(remote));
    put_todo(remote_todos, "t7", "Coffee", false, 20);
    CHECK_OK(mizu_client_flush(remote, 10000));
    CHECK_OK(mizu_client_sync(local));
    CHECK_MODEL(&model, open, "[\"t7\",\"t6\",\"t2\"]", 4);
    put_todo(remote_todos, "t1", "Oat milk", false, 30);
    CHECK_OK(mizu_collection_delete(remote_todos, "t6"));
    CHECK_OK(mizu_client_flush(remote, 10000));
    CHECK_OK(mizu_client_sync(local));
    CHECK_MODEL(&model, open, "[\"t1\",\"t7\",\"t2\"]", 3);

    pthread_mutex_lock(&model.lock);
    CHECK(model.bad == 0);
    CHECK(model.results == 1);
    CHECK(model.removed > 0 && model.inserted > 0 && model.moved > 0 && model.updated > 0);
    CHECK(model.elsewhere > 0); /* server changes arrive on the sync thread */
    pthread_mutex_unlock(&model.lock);

    CHECK_OK(mizu_subscription_free(subscription));
    CHECK_OK(mizu_query_free(open));
    model_destroy(&model);
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_collection_free(remote_todos));
    quiesce(local);
    quiesce(remote);
    CHECK_OK(mizu_client_free(local));
    CHECK_OK(mizu_client_free(remote));
}

/* Counts the runs of an effect that reads a query's count. */
typedef struct {
    const MizuQuery *query;
    int runs;
    uint64_t last;
} CountWatcher;

static void watch_count(void *user_data) {
    CountWatcher *watcher = user_data;
    watcher->runs++;
    mizu_query_count(watcher->query, &watcher->last);
}

static int released = 0;
static void count_release(void *user_data) {
    (void)user_data;
    released++;
}

static char *query_json(const MizuCollection *todos, const char *spec, bool ids) {
    MizuQuery *query = NULL;
    CHECK_OK(mizu_collection_query(todos, spec, &query));
    char *text = ids ? query_ids(query) : query_rows(query);
    CHECK_OK(mizu_query_free(query));
    return text;
}

#define CHECK_QUERY_IDS(todos, spec, expected)                                                  \
    do {                                                                                        \
        char *ids_ = query_json((todos), (spec), true);                                         \
        CHECK_STR(ids_, (expected));                                                            \
        free(ids_);                                                                             \
    } while (0)

static void query_reads_rows_ids_count_and_spec_and_wakes_effects_only_on_change(void) {
    MizuClient *client = new_client(test_scope("query-reads"), false);
    MizuCollection *items = NULL;
    CHECK_OK(mizu_client_collection(client, "item", &items));
    CHECK_OK(mizu_collection_create(items, "a", "{\"n\":3,\"tag\":\"x\"}", NULL));
    CHECK_OK(mizu_collection_create(items, "b", "{\"n\":1}", NULL));
    CHECK_OK(mizu_collection_create(items, "c", "{\"n\":2,\"tag\":\"x\",\"list\":[\"p\",\"q\"]}",
                                    NULL));
    CHECK_OK(mizu_collection_create(items, "d", "{\"n\":\"str\",\"meta\":{\"due\":5}}", NULL));

    /* Numbers sort before strings; the window skips one and keeps two. */
    MizuQuery *window = NULL;
    CHECK_OK(mizu_collection_query(
        items, "{\"order_by\":[{\"field\":\"n\"}],\"offset\":1,\"limit\":2}", &window));
    char *rows = query_rows(window);
    CHECK_STR(rows, "[{\"id\":\"c\",\"value\":{\"list\":[\"p\",\"q\"],\"n\":2,\"tag\":\"x\"}},"
                    "{\"id\":\"a\",\"value\":{\"n\":3,\"tag\":\"x\"}}]");
    free(rows);
    uint64_t count = 0;
    CHECK_OK(mizu_query_count(window, &count));
    CHECK(count == 4); /* offset and limit ignored */
    char *spec = NULL;
    CHECK_OK(mizu_query_spec_json(window, &spec));
    CHECK_STR(spec,
              "{\"limit\":2,\"offset\":1,\"order_by\":[{\"field\":\"n\",\"order\":\"asc\"}]}");
    CHECK_OK(mizu_string_free(spec));
    CHECK_OK(mizu_query_free(window));

    /* Every operator of the spec, against what it should select (ordered by id by default). */
    CHECK_QUERY_IDS(items, "{}", "[\"a\",\"b\",\"c\",\"d\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"tag\",\"op\":\"exists\"}}", "[\"a\",\"c\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"tag\",\"op\":\"exists\",\"value\":false}}",
                    "[\"b\",\"d\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"n\",\"op\":\"ne\",\"value\":1}}",
                    "[\"a\",\"c\",\"d\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"n\",\"op\":\"lt\",\"value\":3}}",
                    "[\"b\",\"c\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"n\",\"op\":\"le\",\"value\":3}}",
                    "[\"a\",\"b\",\"c\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"n\",\"op\":\"gt\",\"value\":2}}",
                    "[\"a\",\"d\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"n\",\"op\":\"ge\",\"value\":\"a\"}}",
                    "[\"d\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"n\",\"op\":\"in\",\"value\":[1,\"str\"]}}",
                    "[\"b\",\"d\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"list\",\"op\":\"contains\",\"value\":\"q\"}}",
                    "[\"c\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"n\",\"op\":\"contains\",\"value\":\"tr\"}}",
                    "[\"d\"]");
    CHECK_QUERY_IDS(items, "{\"filter\":{\"field\":\"meta.due\",\"op\":\"eq\",\"value\":5}}",
                    "[\"d\"]");
    CHECK_QUERY_IDS(items,
                    "{\"filter\":{\"or\":[{\"field\":\"n\",\"op\":\"eq\",\"value\":1},"
                    "{\"and\":[{\"field\":\"tag\",\"op\":\"eq\",\"value\":\"x\"},"
                    "{\"not\":{\"field\":\"n\",\"op\":\"lt\",\"value\":3}}]}]}}",
                    "[\"a\",\"b\"]");
    CHECK_QUERY_IDS(items,
                    "{\"order_by\":[{\"field\":\"tag\",\"order\":\"desc\"},{\"field\":\"n\"}]}",
                    "[\"c\",\"a\",\"b\",\"d\"]");

    /* An effect reading the count wakes when the number of matches changes, not otherwise. */
    MizuQuery *tagged = NULL;
    CHECK_OK(mizu_collection_query(
        items, "{\"filter\":{\"field\":\"tag\",\"op\":\"eq\",\"value\":\"x\"}}", &tagged));
    CountWatcher watcher = {.query = tagged};
    MizuEffect *effect = NULL;
    CHECK_OK(mizu_effect_new(watch_count, &watcher, NULL, &effect));
    CHECK(watcher.runs == 1 && watcher.last == 2);
    CHECK_OK(mizu_collection_set(items, "a", "{\"n\":5,\"tag\":\"x\"}"));
    CHECK_OK(mizu_collection_set(items, "b", "{\"n\":6}"));
    CHECK(watcher.runs == 1);
    CHECK_OK(mizu_collection_create(items, "e", "{\"tag\":\"x\"}", NULL));
    CHECK(watcher.runs == 2 && watcher.last == 3);
    CHECK_OK(mizu_effect_free(effect));

    /* A subscription outlives its query handle, and its release runs once, when it is freed. */
    released = 0;
    ListModel model;
    model_init(&model);
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_query_subscribe(tagged, on_query_event, &model, count_release, &subscription));
    CHECK_OK(mizu_query_free(tagged));
    CHECK_OK(mizu_collection_create(items, "f", "{\"tag\":\"x\"}", NULL));
    CHECK(model.results == 1 && model.diffs == 1 && model.inserted == 1 && model.bad == 0);
    CHECK(model.len == 4 && strcmp(model.ids[3], "f") == 0);
    CHECK(released == 0);
    CHECK_OK(mizu_subscription_free(subscription));
    CHECK(released == 1);
    CHECK_OK(mizu_collection_create(items, "g", "{\"tag\":\"x\"}", NULL));
    CHECK(model.diffs == 1);
    model_destroy(&model);

    CHECK_OK(mizu_collection_free(items));
    CHECK_OK(mizu_client_free(client));
}

/* A spec refused with MIZU_ERR_INVALID_QUERY, whose message names `why`. */
static void check_refused(const MizuCollection *todos, const char *spec, const char *why) {
    MizuQuery *query = (MizuQuery *)1;
    MizuStatus status = mizu_collection_query(todos, spec, &query);
    if (status != MIZU_ERR_INVALID_QUERY) {
        check_fail(__FILE__, __LINE__, spec, mizu_status_name(status));
    } else if (!contains(mizu_last_error_message(), why)) {
        check_fail(__FILE__, __LINE__, spec, mizu_last_error_message());
    }
    if (query != NULL) check_fail(__FILE__, __LINE__, spec, "out is not NULL after an error");
}

static void bad_specs_paths_and_handles_are_refused_with_typed_errors(void) {
    MizuClient *client = new_client(test_scope("query-misuse"), false);
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "t1", "{\"done\":false}", NULL));

    check_refused(todos, "{\"filter\":", "not JSON");
    check_refused(todos, "not json", "not JSON");
    check_refused(todos, "[]", "object");
    check_refused(todos, "{\"filter\":{\"field\":\"done\",\"op\":\"like\",\"value\":1}}", "like");
    check_refused(todos, "{\"where\":{}}", "where");
    check_refused(todos, "{\"filter\":{\"field\":\"\",\"op\":\"eq\",\"value\":1}}", "path");
    check_refused(todos, "{\"filter\":{\"field\":\"a..b\",\"op\":\"eq\",\"value\":1}}", "a..b");
    check_refused(todos, "{\"order_by\":[{\"field\":\"\"}]}", "path");
    check_refused(todos, "{\"order_by\":[{\"field\":\"due\",\"order\":\"up\"}]}", "order");
    check_refused(todos, "{\"limit\":-1}", "limit");
    check_refused(todos, "{\"limit\":1.5}", "limit");
    check_refused(todos, "{\"offset\":\"3\"}", "offset");
    check_refused(todos, "{\"filter\":{\"field\":\"done\",\"op\":\"in\",\"value\":1}}", "array");
    check_refused(todos, "{\"filter\":{\"field\":\"done\",\"op\":\"eq\"}}", "value");
    check_refused(todos, "{\"filter\":{\"field\":\"done\",\"op\":\"exists\",\"value\":1}}",
                  "exists");
    CHECK(strcmp(mizu_status_name(MIZU_ERR_INVALID_QUERY), "MIZU_ERR_INVALID_QUERY") == 0);

    MizuQuery *query = NULL;
    CHECK_STATUS(mizu_collection_query(todos, NULL, &query), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "spec_json is NULL"));
    CHECK_STATUS(mizu_collection_query(todos, "{\"limit\":\xff}", &query),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "UTF-8"));
    CHECK_STATUS(mizu_collection_query(todos, "{}", NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_collection_query(NULL, "{}", &query), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(query == NULL);

    CHECK_STATUS(mizu_collection_ensure_index(todos, ""), MIZU_ERR_INVALID_QUERY);
    CHECK_STATUS(mizu_collection_ensure_index(todos, "a..b"), MIZU_ERR_INVALID_QUERY);
    CHECK(contains(mizu_last_error_message(), "a..b"));
    CHECK_STATUS(mizu_collection_ensure_index(todos, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_collection_ensure_index(NULL, "done"), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_OK(mizu_collection_ensure_index(todos, "done"));
    CHECK_OK(mizu_collection_ensure_index(todos, "done")); /* idempotent */

    CHECK_OK(mizu_collection_query(
        todos, "{\"filter\":{\"field\":\"done\",\"op\":\"eq\",\"value\":false}}", &query));
    char *text = (char *)1;
    uint64_t count = 7;
    CHECK_STATUS(mizu_query_get(query, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_query_ids(query, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_query_count(query, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_query_spec_json(query, NULL), MIZU_ERR_INVALID_ARGUMENT);
    MizuSubscription *subscription = (MizuSubscription *)1;
    released = 0;
    CHECK_STATUS(mizu_query_subscribe(query, NULL, NULL, count_release, &subscription),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK(subscription == NULL && released == 1);
    CHECK_STATUS(mizu_query_subscribe(query, on_query_event, NULL, count_release, NULL),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK(released == 2);
    CHECK_STATUS(mizu_query_get(NULL, &text), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(text == NULL);

    /* A handle of the wrong kind, a made-up one, a freed one, a double free. */
    CHECK_STATUS(mizu_query_get((MizuQuery *)todos, &text), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(contains(mizu_last_error_message(), "collection"));
    CHECK_STATUS(mizu_collection_ensure_index((MizuCollection *)query, "done"),
                 MIZU_ERR_INVALID_ARGUMENT);
    int local = 0;
    CHECK_STATUS(mizu_query_count((MizuQuery *)&local, &count), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(mizu_query_free((MizuQuery *)&local), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_OK(mizu_query_free(query));
    CHECK_STATUS(mizu_query_get(query, &text), MIZU_ERR_CLOSED);
    CHECK(contains(mizu_last_error_message(), "already freed"));
    CHECK_STATUS(mizu_query_ids(query, &text), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_query_count(query, &count), MIZU_ERR_CLOSED);
    CHECK(count == 0);
    CHECK_STATUS(mizu_query_subscribe(query, on_query_event, NULL, count_release, &subscription),
                 MIZU_ERR_CLOSED);
    CHECK(released == 3);
    CHECK_STATUS(mizu_query_free(query), MIZU_ERR_CLOSED);
    CHECK_OK(mizu_query_free(NULL));

    /* A closed client: queries made before report closed; new ones are refused. */
    CHECK_OK(mizu_collection_query(todos, "{}", &query));
    CHECK_OK(mizu_client_close(client));
    CHECK_STATUS(mizu_query_ids(query, &text), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_query_subscribe(query, on_query_event, NULL, NULL, &subscription),
                 MIZU_ERR_CLOSED);
    MizuQuery *late = NULL;
    CHECK_STATUS(mizu_collection_query(todos, "{}", &late), MIZU_ERR_CLOSED);
    CHECK_STATUS(mizu_collection_ensure_index(todos, "done"), MIZU_ERR_CLOSED);
    CHECK_OK(mizu_query_free(query));

    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
}

int main(int argc, char **argv) {
    static const Test tests[] = {
        {"diff_callback_keeps_a_c_list_model_equal_to_the_query_through_local_and_remote_writes",
         diff_callback_keeps_a_c_list_model_equal_to_the_query_through_local_and_remote_writes},
        {"query_reads_rows_ids_count_and_spec_and_wakes_effects_only_on_change",
         query_reads_rows_ids_count_and_spec_and_wakes_effects_only_on_change},
        {"bad_specs_paths_and_handles_are_refused_with_typed_errors",
         bad_specs_paths_and_handles_are_refused_with_typed_errors},
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
