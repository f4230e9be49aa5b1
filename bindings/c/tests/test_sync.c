/* Clients syncing through the reference server: convergence, callbacks on the sync thread,
 * and writes made during an outage. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"

/* What a client's callbacks saw. */
typedef struct {
    atomic_int syncs;
    atomic_int onlines;
    atomic_int offlines;
    atomic_int errors;
    atomic_int rejected; /* errors reported as MIZU_ERR_REJECTED */
    atomic_int too_large; /* errors reported as MIZU_ERR_SNAPSHOT_TOO_LARGE */
    atomic_int released;
    atomic_int pendings; /* on_pending calls */
    atomic_int on_main_thread; /* callbacks that ran on the test's own thread */
    atomic_uint_least64_t last_cursor;
    pthread_t main_thread;
} Events;

static void note_thread(Events *events) {
    if (pthread_equal(pthread_self(), events->main_thread)) atomic_fetch_add(&events->on_main_thread, 1);
}

static void on_sync(void *user_data, uint64_t cursor) {
    Events *events = user_data;
    note_thread(events);
    atomic_store(&events->last_cursor, cursor);
    atomic_fetch_add(&events->syncs, 1);
}

static void on_connectivity(void *user_data, bool online) {
    note_thread(user_data);
    atomic_fetch_add(online ? &((Events *)user_data)->onlines : &((Events *)user_data)->offlines, 1);
}

static void on_error(void *user_data, MizuStatus status, const char *message) {
    Events *events = user_data;
    note_thread(events);
    CHECK(message != NULL && *message != '\0');
    if (status == MIZU_ERR_REJECTED) atomic_fetch_add(&events->rejected, 1);
    if (status == MIZU_ERR_SNAPSHOT_TOO_LARGE && strstr(message, "limit of 1000 bytes") != NULL)
        atomic_fetch_add(&events->too_large, 1);
    atomic_fetch_add(&events->errors, 1);
}

static void on_release(void *user_data) { atomic_fetch_add(&((Events *)user_data)->released, 1); }

static void on_pending(void *user_data) { atomic_fetch_add(&((Events *)user_data)->pendings, 1); }

static MizuClientCallbacks callbacks_for(Events *events) {
    events->main_thread = pthread_self();
    MizuClientCallbacks callbacks = {
        .user_data = events,
        .on_sync = on_sync,
        .on_connectivity = on_connectivity,
        .on_error = on_error,
        .release = on_release,
    };
    return callbacks;
}

/* A started client of `base_url` in `scope`, with `events` (may be NULL) as its callbacks. */
static MizuClient *started(const char *base_url, const char *scope, const char *db, Events *events) {
    char *options = test_options_for(base_url, scope, db);
    MizuClientCallbacks callbacks;
    if (events != NULL) callbacks = callbacks_for(events);
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, events ? &callbacks : NULL, &client));
    free(options);
    CHECK_OK(mizu_client_start(client));
    return client;
}

static char *get_value(const MizuCollection *collection, const char *id) {
    char *text = NULL;
    CHECK_OK(mizu_collection_get(collection, id, &text));
    return take_string(text);
}

static void two_clients_converge_through_the_server(void) {
    const char *scope = test_scope("converge");
    MizuClient *a = started(test_base_url(), scope, NULL, NULL);
    MizuClient *b = started(test_base_url(), scope, NULL, NULL);
    MizuCollection *todos_a = NULL, *todos_b = NULL;
    CHECK_OK(mizu_client_collection(a, "todo", &todos_a));
    CHECK_OK(mizu_client_collection(b, "todo", &todos_b));

    CHECK_OK(mizu_collection_create(todos_a, "t1", "{\"title\":\"from a\"}", NULL));
    CHECK_OK(mizu_client_flush(a, 10000));
    CHECK_OK(mizu_client_sync(b));
    char *value = get_value(todos_b, "t1");
    CHECK_STR(value, "{\"title\":\"from a\"}");
    free(value);

    CHECK_OK(mizu_collection_set(todos_b, "t1", "{\"title\":\"edited by b\"}"));
    CHECK_OK(mizu_collection_create(todos_b, "t2", "{\"title\":\"from b\"}", NULL));
    CHECK_OK(mizu_client_flush(b, 10000));
    CHECK_OK(mizu_client_sync(a));

    char *all_a = NULL, *all_b = NULL;
    CHECK_OK(mizu_collection_all(todos_a, &all_a));
    CHECK_OK(mizu_collection_all(todos_b, &all_b));
    CHECK_STR(all_a, "{\"t1\":{\"title\":\"edited by b\"},\"t2\":{\"title\":\"from b\"}}");
    CHECK_STR(all_a, all_b);
    CHECK_OK(mizu_string_free(all_a));
    CHECK_OK(mizu_string_free(all_b));

    uint64_t cursor_a = 0, cursor_b = 0;
    CHECK_OK(mizu_client_sync(b));
    CHECK_OK(mizu_client_cursor(a, &cursor_a));
    CHECK_OK(mizu_client_cursor(b, &cursor_b));
    CHECK(cursor_a > 0 && cursor_a == cursor_b);

    CHECK_OK(mizu_collection_free(todos_a));
    CHECK_OK(mizu_collection_free(todos_b));
    CHECK_OK(mizu_client_free(a));
    CHECK_OK(mizu_client_free(b));
}

/* An effect that reads one entity and records the threads it ran on. */
typedef struct {
    const MizuEntity *entity;
    pthread_t main_thread;
    atomic_int runs;
    atomic_int runs_elsewhere;
    char last[128];
} Watcher;

static void watch_entity(void *user_data) {
    Watcher *watcher = user_data;
    char *text = NULL;
    MizuStatus status = mizu_entity_get(watcher->entity, &text);
    snprintf(watcher->last, sizeof watcher->last, "%s", status == MIZU_OK ? text : "missing");
    mizu_string_free(text);
    if (!pthread_equal(pthread_self(), watcher->main_thread)) atomic_fetch_add(&watcher->runs_elsewhere, 1);
    atomic_fetch_add(&watcher->runs, 1);
}

static void server_changes_wake_effects_and_callbacks_on_the_sync_thread(void) {
    const char *scope = test_scope("threads");
    Events events = {0};
    MizuClient *writer = started(test_base_url(), scope, NULL, NULL);
    MizuClient *reader = started(test_base_url(), scope, NULL, &events);
    MizuCollection *writes = NULL, *reads = NULL;
    CHECK_OK(mizu_client_collection(writer, "todo", &writes));
    CHECK_OK(mizu_client_collection(reader, "todo", &reads));
    MizuEntity *entity = NULL;
    CHECK_OK(mizu_collection_entity(reads, "shared", &entity));

    Watcher watcher = {.entity = entity, .main_thread = pthread_self()};
    MizuEffect *effect = NULL;
    CHECK_OK(mizu_effect_new(watch_entity, &watcher, NULL, &effect));
    CHECK(atomic_load(&watcher.runs) == 1);
    CHECK_STR(watcher.last, "missing");

    CHECK_OK(mizu_collection_create(writes, "shared", "{\"v\":1}", NULL));
    CHECK_OK(mizu_client_flush(writer, 10000));
    CHECK_OK(mizu_client_sync(reader));
    CHECK(atomic_load(&watcher.runs) == 2);
    CHECK(atomic_load(&watcher.runs_elsewhere) == 1);
    CHECK_STR(watcher.last, "{\"v\":1}");

    CHECK(atomic_load(&events.syncs) >= 1);
    CHECK(atomic_load(&events.onlines) >= 1);
    CHECK(atomic_load(&events.last_cursor) > 0);
    CHECK(atomic_load(&events.on_main_thread) == 0);

    CHECK_OK(mizu_effect_free(effect));
    CHECK_OK(mizu_entity_free(entity));
    CHECK_OK(mizu_collection_free(writes));
    CHECK_OK(mizu_collection_free(reads));
    CHECK_OK(mizu_client_free(writer));
    CHECK(atomic_load(&events.released) == 0);
    CHECK_OK(mizu_client_free(reader));
    CHECK(atomic_load(&events.released) == 1);
}

/* The "UI thread" of the delivery test: dispatches the client's waiting deliveries. */
typedef struct {
    const MizuClient *client;
    size_t ran;
    pthread_t thread;
} Dispatcher;

static void *dispatch_on_this_thread(void *arg) {
    Dispatcher *dispatcher = arg;
    dispatcher->thread = pthread_self();
    CHECK_OK(mizu_client_dispatch_pending(dispatcher->client, &dispatcher->ran));
    return NULL;
}

static void with_on_pending_deliveries_wait_for_the_dispatching_thread(void) {
    const char *scope = test_scope("delivery");
    Events events = {0};
    MizuClient *writer = started(test_base_url(), scope, NULL, NULL);
    char *options = test_options_for(test_base_url(), scope, NULL);
    MizuClientCallbacks callbacks = callbacks_for(&events);
    callbacks.on_pending = on_pending;
    MizuClient *reader = NULL;
    CHECK_OK(mizu_client_new(options, &callbacks, &reader));
    free(options);
    CHECK_OK(mizu_client_start(reader));
    MizuCollection *writes = NULL, *reads = NULL;
    CHECK_OK(mizu_client_collection(writer, "todo", &writes));
    CHECK_OK(mizu_client_collection(reader, "todo", &reads));
    MizuEntity *entity = NULL;
    CHECK_OK(mizu_collection_entity(reads, "shared", &entity));
    Watcher watcher = {.entity = entity, .main_thread = pthread_self()};
    MizuEffect *effect = NULL;
    CHECK_OK(mizu_effect_new(watch_entity, &watcher, NULL, &effect));
    CHECK(atomic_load(&watcher.runs) == 1);

    CHECK_OK(mizu_collection_create(writes, "shared", "{\"v\":1}", NULL));
    CHECK_OK(mizu_client_flush(writer, 10000));
    CHECK_OK(mizu_client_sync(reader));
    /* The store has it, but nothing ran: the deliveries wait for the app's thread. */
    bool exists = false;
    CHECK_OK(mizu_collection_exists(reads, "shared", &exists));
    CHECK(exists);
    CHECK(atomic_load(&watcher.runs) == 1);
    CHECK(atomic_load(&events.syncs) == 0);
    CHECK(atomic_load(&events.pendings) >= 1);

    Dispatcher dispatcher = {.client = reader};
    pthread_t ui;
    CHECK(pthread_create(&ui, NULL, dispatch_on_this_thread, &dispatcher) == 0);
    CHECK(pthread_join(ui, NULL) == 0);
    CHECK(dispatcher.ran >= 2);
    CHECK(atomic_load(&watcher.runs) == 2);
    CHECK(atomic_load(&watcher.runs_elsewhere) == 1);
    CHECK_STR(watcher.last, "{\"v\":1}");
    CHECK(atomic_load(&events.syncs) >= 1);
    CHECK(atomic_load(&events.onlines) >= 1);
    /* Every callback ran on the dispatching thread, none on the sync thread. */
    events.main_thread = dispatcher.thread;
    atomic_store(&events.on_main_thread, 0);
    int before = atomic_load(&events.syncs) + atomic_load(&events.onlines);
    CHECK_OK(mizu_collection_set(writes, "shared", "{\"v\":2}"));
    CHECK_OK(mizu_client_flush(writer, 10000));
    CHECK_OK(mizu_client_sync(reader));
    CHECK(atomic_load(&events.syncs) + atomic_load(&events.onlines) == before);
    size_t ran = 0;
    CHECK_OK(mizu_client_dispatch_pending(reader, &ran));
    CHECK(ran >= 1);
    CHECK(atomic_load(&watcher.runs) == 3);
    CHECK(atomic_load(&watcher.runs_elsewhere) == 1); /* this time on the test's own thread */
    CHECK_STR(watcher.last, "{\"v\":2}");
    CHECK_OK(mizu_client_dispatch_pending(reader, NULL));

    CHECK_OK(mizu_effect_free(effect));
    CHECK_OK(mizu_entity_free(entity));
    CHECK_OK(mizu_collection_free(writes));
    CHECK_OK(mizu_collection_free(reads));
    CHECK_OK(mizu_client_close(reader));
    CHECK_STATUS(mizu_client_dispatch_pending(reader, &ran), MIZU_ERR_CLOSED);
    CHECK_OK(mizu_client_free(writer));
    CHECK_OK(mizu_client_free(reader));
    CHECK(atomic_load(&events.released) == 1);
}

/* The offline callback and the status flag the engine updates right after it. */
typedef struct {
    Events *events;
    const MizuClient *client;
} Offline;

static bool went_offline(void *ctx) {
    Offline *offline = ctx;
    bool online = true;
    return atomic_load(&offline->events->offlines) >= 1 &&
           mizu_client_is_online(offline->client, &online) == MIZU_OK && !online;
}

static void offline_writes_reach_the_server_after_it_comes_back(void) {
    char server_db[512], client_db[512];
    temp_db_path(server_db, sizeof server_db, "outage-server");
    temp_db_path(client_db, sizeof client_db, "outage-client");
    Server server = {.stdout_fd = -1};
    CHECK(server_start(&server, "127.0.0.1:0", server_db));
    const char *scope = test_scope("outage");
    char base_url[sizeof server.base_url];
    snprintf(base_url, sizeof base_url, "%s", server.base_url);

    Events events = {0};
    MizuClient *client = started(base_url, scope, client_db, &events);
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "before", "1", NULL));
    CHECK_OK(mizu_client_flush(client, 10000));

    server_kill(&server);
    CHECK_OK(mizu_collection_create(todos, "during-1", "2", NULL));
    CHECK_OK(mizu_collection_set(todos, "before", "10"));
    Offline offline = {.events = &events, .client = client};
    CHECK(wait_until(went_offline, &offline, 10000));
    size_t pending = 0;
    CHECK_OK(mizu_client_pending_count(client, &pending));
    CHECK(pending == 2);
    CHECK_STATUS(mizu_client_flush(client, 200), MIZU_ERR_TIMEOUT);
    char *value = get_value(todos, "before");
    CHECK_STR(value, "10");
    free(value);

    CHECK(server_start(&server, server.addr, server_db));
    CHECK_OK(mizu_client_flush(client, 15000));
    CHECK_OK(mizu_client_pending_count(client, &pending));
    CHECK(pending == 0);
    CHECK(atomic_load(&events.onlines) >= 2);

    MizuClient *other = started(base_url, scope, NULL, NULL);
    CHECK_OK(mizu_client_sync(other));
    MizuCollection *seen = NULL;
    CHECK_OK(mizu_client_collection(other, "todo", &seen));
    char *all = NULL;
    CHECK_OK(mizu_collection_all(seen, &all));
    CHECK_STR(all, "{\"before\":10,\"during-1\":2}");
    CHECK_OK(mizu_string_free(all));

    CHECK_OK(mizu_collection_free(seen));
    CHECK_OK(mizu_client_free(other));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
    server_kill(&server);
    remove_db(server_db);
    remove_db(client_db);
}

static bool was_rejected(void *ctx) { return atomic_load(&((Events *)ctx)->rejected) >= 1; }

static void rejected_write_reaches_on_error_as_rejected_and_rolls_back(void) {
    char marker[64], rule[256], value[128];
    snprintf(marker, sizeof marker, "reject-me-%ld", (long)getpid());
    snprintf(rule, sizeof rule, "{\"arg_contains\":\"%s\",\"error\":\"not on my watch\"}", marker);
    snprintf(value, sizeof value, "{\"title\":\"%s\"}", marker);
    CHECK(admin_post(test_base_url(), "/_admin/reject", rule));

    Events events = {0};
    MizuClient *client = started(test_base_url(), test_scope("rejected"), NULL, &events);
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "kept", "{\"title\":\"fine\"}", NULL));
    CHECK_OK(mizu_collection_create(todos, "doomed", value, NULL));
    CHECK_OK(mizu_client_flush(client, 10000));
    CHECK(wait_until(was_rejected, &events, 5000));
    CHECK(atomic_load(&events.on_main_thread) == 0);
    bool exists = true;
    CHECK_OK(mizu_collection_exists(todos, "doomed", &exists));
    CHECK(!exists);
    CHECK_OK(mizu_collection_exists(todos, "kept", &exists));
    CHECK(exists);

    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
}

static bool was_too_large(void *ctx) { return atomic_load(&((Events *)ctx)->too_large) >= 1; }

static void a_snapshot_over_max_snapshot_bytes_is_reported_and_the_client_stays_online(void) {
    const char *scope = test_scope("snapshot-limit");
    MizuClient *writer = started(test_base_url(), scope, NULL, NULL);
    MizuCollection *notes = NULL;
    CHECK_OK(mizu_client_collection(writer, "note", &notes));
    char value[2100];
    memset(value, 'x', sizeof value);
    memcpy(value, "{\"t\":\"", 6);
    memcpy(value + sizeof value - 3, "\"}", 3);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "n%d", i);
        CHECK_OK(mizu_collection_create(notes, id, value, NULL));
    }
    CHECK_OK(mizu_client_flush(writer, 10000));
    CHECK_OK(mizu_collection_free(notes));
    CHECK_OK(mizu_client_free(writer));

    char options[512];
    snprintf(options, sizeof options,
             "{\"base_url\":\"%s\",\"scope\":\"%s\",\"pull_interval_ms\":100,"
             "\"backoff_min_ms\":20,\"backoff_max_ms\":200,\"max_snapshot_bytes\":1000}",
             test_base_url(), scope);
    Events events = {0};
    MizuClientCallbacks callbacks = callbacks_for(&events);
    MizuClient *reader = NULL;
    CHECK_OK(mizu_client_new(options, &callbacks, &reader));
    CHECK_OK(mizu_client_start(reader));
    CHECK(wait_until(was_too_large, &events, 30000));
    char *status = NULL;
    CHECK_OK(mizu_client_status(reader, &status));
    CHECK(strstr(status, "\"online\":true") != NULL);
    CHECK(strstr(status, "limit of 1000 bytes") != NULL);
    CHECK_OK(mizu_string_free(status));
    CHECK_STR(mizu_status_name(MIZU_ERR_SNAPSHOT_TOO_LARGE), "MIZU_ERR_SNAPSHOT_TOO_LARGE");
    CHECK_OK(mizu_client_free(reader));
}

/* Records the status JSON deliveries of a subscription. */
typedef struct {
    atomic_int calls;
    atomic_int saw_pending;
} StatusSeen;

static void on_status(void *user_data, const char *json) {
    StatusSeen *seen = user_data;
    atomic_fetch_add(&seen->calls, 1);
    if (strstr(json, "\"pending\":1") != NULL) atomic_fetch_add(&seen->saw_pending, 1);
}

static void status_subscription_follows_the_pending_queue(void) {
    MizuClient *client = started(test_base_url(), test_scope("status"), NULL, NULL);
    StatusSeen seen = {0};
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_client_subscribe_status(client, on_status, &seen, NULL, &subscription));
    CHECK(atomic_load(&seen.calls) >= 1);
    CHECK_OK(mizu_client_mutate(client, "todo.archive_done", "{\"before\":100}", NULL));
    CHECK_OK(mizu_client_flush(client, 10000));
    CHECK(atomic_load(&seen.saw_pending) >= 1);
    char *status = NULL;
    CHECK_OK(mizu_client_status(client, &status));
    CHECK(strstr(status, "\"online\":true") != NULL);
    CHECK(strstr(status, "\"pending\":0") != NULL);
    CHECK_OK(mizu_string_free(status));
    CHECK_OK(mizu_subscription_free(subscription));
    CHECK_OK(mizu_client_free(client));
}

static void paused_client_queues_writes_until_resumed(void) {
    MizuClient *client = started(test_base_url(), test_scope("paused"), NULL, NULL);
    CHECK_OK(mizu_client_pause(client));
    CHECK_OK(mizu_client_mutate(client, "todo.archive_done", NULL, NULL));
    CHECK_STATUS(mizu_client_sync(client), MIZU_ERR_PAUSED);
    char *status = NULL;
    CHECK_OK(mizu_client_status(client, &status));
    CHECK(strstr(status, "\"paused\":true") != NULL);
    CHECK(strstr(status, "\"pending\":1") != NULL);
    CHECK_OK(mizu_string_free(status));
    CHECK_OK(mizu_client_resume(client));
    CHECK_OK(mizu_client_flush(client, 10000));
    size_t pending = 1;
    CHECK_OK(mizu_client_pending_count(client, &pending));
    CHECK(pending == 0);
    CHECK_OK(mizu_client_stop(client));
    CHECK_STATUS(mizu_client_sync(client), MIZU_ERR_NOT_STARTED);
    CHECK_OK(mizu_client_free(client));
}

/* Whether the file at `path` (or its WAL) contains `needle`. */
static bool file_contains(const char *path, const char *needle) {
    char name[600];
    const char *suffixes[] = {"", "-wal"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        FILE *f = fopen(name, "rb");
        if (f == NULL) continue;
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *bytes = malloc((size_t)size + 1);
        size_t read = fread(bytes, 1, (size_t)size, f);
        fclose(f);
        bool found = false;
        size_t n = strlen(needle);
        for (size_t at = 0; !found && read >= n && at <= read - n; at++) found = memcmp(bytes + at, needle, n) == 0;
        free(bytes);
        if (found) return true;
    }
    return false;
}

static void clear_refuses_pending_writes_then_wipes_the_files_with_consent(void) {
    char db[512];
    temp_db_path(db, sizeof db, "clear");
    char *options = test_options_for("http://127.0.0.1:9/_sync", test_scope("clear"), db);
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "t1", "{\"title\":\"private-note-91c\"}", NULL));
    char *before = NULL;
    CHECK_OK(mizu_client_id(client, &before));
    CHECK(file_contains(db, "private-note-91c"));

    CHECK_STATUS(mizu_client_clear(client, 0, false), MIZU_ERR_PENDING_WRITES);
    CHECK(strstr(mizu_last_error_message(), "1 local write") != NULL);
    bool exists = false;
    CHECK_OK(mizu_collection_exists(todos, "t1", &exists));
    CHECK(exists);

    char *pending = NULL;
    CHECK_OK(mizu_client_pending(client, &pending));
    CHECK(strstr(pending, "\"name\":\"todo.create\"") != NULL);
    CHECK(strstr(pending, "\"attempts\":0") != NULL);
    CHECK_OK(mizu_string_free(pending));

    CHECK_OK(mizu_client_clear(client, 0, true));
    CHECK(!file_contains(db, "private-note-91c"));
    CHECK_OK(mizu_collection_exists(todos, "t1", &exists));
    CHECK(!exists);
    char *after = NULL;
    CHECK_OK(mizu_client_id(client, &after));
    CHECK(strcmp(before, after) != 0);
    CHECK_OK(mizu_string_free(before));
    CHECK_OK(mizu_string_free(after));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
    remove_db(db);
}

static void entity_sync_state_follows_the_queue_and_discard_rolls_back(void) {
    const char *scope = test_scope("sync-state");
    MizuClient *client = started(test_base_url(), scope, NULL, NULL);
    CHECK_OK(mizu_client_pause(client));
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    MizuEntity *entity = NULL;
    CHECK_OK(mizu_collection_entity(todos, "t1", &entity));
    char *state = NULL;
    CHECK_OK(mizu_entity_sync_state(entity, &state));
    CHECK_STR(state, "{\"state\":\"synced\"}");
    CHECK_OK(mizu_string_free(state));

    CHECK_OK(mizu_entity_set(entity, "{\"title\":\"a\"}"));
    CHECK_OK(mizu_entity_sync_state(entity, &state));
    CHECK_STR(state, "{\"mutations\":1,\"state\":\"pending\"}");
    CHECK_OK(mizu_string_free(state));

    char *pending = NULL;
    CHECK_OK(mizu_client_pending(client, &pending));
    char id[256] = {0};
    const char *at = strstr(pending, "\"id\":\"");
    CHECK(at != NULL);
    at += 6;
    size_t n = (size_t)(strchr(at, '"') - at);
    memcpy(id, at, n < sizeof id ? n : sizeof id - 1);
    CHECK_OK(mizu_string_free(pending));

    CHECK_OK(mizu_client_discard(client, id));
    CHECK_OK(mizu_entity_sync_state(entity, &state));
    CHECK_STR(state, "{\"reason\":\"discarded by the app\",\"state\":\"rejected\"}");
    CHECK_OK(mizu_string_free(state));
    CHECK_STATUS(mizu_client_discard(client, id), MIZU_ERR_INVALID_ARGUMENT);

    CHECK_OK(mizu_entity_set(entity, "{\"title\":\"b\"}"));
    CHECK_OK(mizu_client_resume(client));
    CHECK_OK(mizu_client_flush(client, 10000));
    CHECK_OK(mizu_entity_sync_state(entity, &state));
    CHECK_STR(state, "{\"state\":\"synced\"}");
    CHECK_OK(mizu_string_free(state));

    CHECK_OK(mizu_entity_free(entity));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
}

/* Every log record a client's on_log saw, one "LEVEL target message" line each. */
typedef struct {
    pthread_mutex_t lock;
    char text[65536];
    size_t used;
    int records;
    int above_minimum; /* records finer than the minimum level asked for */
} LogLines;

static void on_log(void *user_data, MizuLogLevel level, const char *target, const char *message) {
    LogLines *lines = user_data;
    pthread_mutex_lock(&lines->lock);
    if (level > MIZU_LOG_DEBUG) lines->above_minimum++;
    lines->records++;
    int n = snprintf(lines->text + lines->used, sizeof lines->text - lines->used, "%d %s %s\n", (int)level,
                     target, message);
    if (n > 0 && lines->used + (size_t)n < sizeof lines->text) lines->used += (size_t)n;
    pthread_mutex_unlock(&lines->lock);
}

static bool logged_rejection(void *ctx) {
    LogLines *lines = ctx;
    pthread_mutex_lock(&lines->lock);
    bool seen = strstr(lines->text, "mizu_sync::rejection") != NULL;
    pthread_mutex_unlock(&lines->lock);
    return seen;
}

static void on_log_receives_the_engine_decisions_at_its_level_without_header_values(void) {
    char marker[64], rule[256], value[128], options[1024];
    snprintf(marker, sizeof marker, "log-reject-%ld", (long)getpid());
    snprintf(rule, sizeof rule, "{\"arg_contains\":\"%s\",\"error\":\"refused for the log\"}", marker);
    snprintf(value, sizeof value, "{\"title\":\"%s\"}", marker);
    CHECK(admin_post(test_base_url(), "/_admin/reject", rule));
    snprintf(options, sizeof options,
             "{\"base_url\":\"%s\",\"scope\":\"%s\",\"push_interval_ms\":50,\"pull_interval_ms\":100,"
             "\"headers\":{\"X-App-Secret\":\"c-header-marker-77e1\","
             "\"Authorization\":\"Bearer c-token-marker-19fa\"}}",
             test_base_url(), test_scope("log"));

    LogLines *lines = calloc(1, sizeof *lines);
    CHECK(lines != NULL);
    pthread_mutex_init(&lines->lock, NULL);
    MizuClientCallbacks callbacks = {.user_data = lines, .on_log = on_log, .min_log_level = MIZU_LOG_DEBUG};
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, &callbacks, &client));
    CHECK_OK(mizu_client_start(client));
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "kept", "{\"title\":\"fine\"}", NULL));
    CHECK_OK(mizu_collection_create(todos, "doomed", value, NULL));
    CHECK_OK(mizu_client_flush(client, 10000));
    CHECK(wait_until(logged_rejection, lines, 5000));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));

    CHECK(lines->records > 5);
    CHECK(lines->above_minimum == 0);
    CHECK(strstr(lines->text, "mizu_sync::push pushing") != NULL);
    CHECK(strstr(lines->text, "mizu_sync::pull pulled from cursor") != NULL);
    CHECK(strstr(lines->text, "mizu_sync::snapshot applying a snapshot") != NULL);
    CHECK(strstr(lines->text, "refused for the log") != NULL);
    CHECK(strstr(lines->text, "mizu_sync::http") == NULL);
    CHECK(strstr(lines->text, "c-header-marker-77e1") == NULL);
    CHECK(strstr(lines->text, "c-token-marker-19fa") == NULL);
    pthread_mutex_destroy(&lines->lock);
    free(lines);
}

int main(int argc, char **argv) {
    static const Test tests[] = {
        {"two_clients_converge_through_the_server", two_clients_converge_through_the_server},
        {"server_changes_wake_effects_and_callbacks_on_the_sync_thread",
         server_changes_wake_effects_and_callbacks_on_the_sync_thread},
        {"with_on_pending_deliveries_wait_for_the_dispatching_thread",
         with_on_pending_deliveries_wait_for_the_dispatching_thread},
        {"offline_writes_reach_the_server_after_it_comes_back",
         offline_writes_reach_the_server_after_it_comes_back},
        {"rejected_write_reaches_on_error_as_rejected_and_rolls_back",
         rejected_write_reaches_on_error_as_rejected_and_rolls_back},
        {"a_snapshot_over_max_snapshot_bytes_is_reported_and_the_client_stays_online",
         a_snapshot_over_max_snapshot_bytes_is_reported_and_the_client_stays_online},
        {"paused_client_queues_writes_until_resumed", paused_client_queues_writes_until_resumed},
        {"status_subscription_follows_the_pending_queue",
         status_subscription_follows_the_pending_queue},
        {"clear_refuses_pending_writes_then_wipes_the_files_with_consent",
         clear_refuses_pending_writes_then_wipes_the_files_with_consent},
        {"entity_sync_state_follows_the_queue_and_discard_rolls_back",
         entity_sync_state_follows_the_queue_and_discard_rolls_back},
        {"on_log_receives_the_engine_decisions_at_its_level_without_header_values",
         on_log_receives_the_engine_decisions_at_its_level_without_header_values},
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
