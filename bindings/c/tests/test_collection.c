/* Collection and entity CRUD with JSON values, against the shared reference server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* A client of the shared server (not started: these tests are about the local state). */
static MizuClient *local_client(const char *name) {
    char *options = test_options(test_scope(name));
    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    return client;
}

static void collection_creates_reads_updates_and_deletes_json_values(void) {
    MizuClient *client = local_client("crud");
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));

    MizuEntity *first = NULL;
    CHECK_OK(mizu_collection_create(todos, "t1", "{\"title\":\"Learn sync\",\"done\":false}", &first));
    CHECK_OK(mizu_collection_create(todos, "t2", "{\"title\":\"Write C\",\"done\":false}", NULL));
    CHECK_STATUS(mizu_collection_create(todos, "t1", "{}", NULL), MIZU_ERR_INVALID_ARGUMENT);

    char *text = NULL;
    CHECK_OK(mizu_collection_get(todos, "t1", &text));
    CHECK_STR(text, "{\"done\":false,\"title\":\"Learn sync\"}");
    CHECK_OK(mizu_string_free(text));

    CHECK_OK(mizu_entity_set(first, "{\"title\":\"Learn sync\",\"done\":true}"));
    CHECK_OK(mizu_entity_get(first, &text));
    CHECK_STR(text, "{\"done\":true,\"title\":\"Learn sync\"}");
    CHECK_OK(mizu_string_free(text));

    CHECK_OK(mizu_collection_set(todos, "t3", "[1,2,3]"));
    size_t count = 0;
    CHECK_OK(mizu_collection_count(todos, &count));
    CHECK(count == 3);

    CHECK_OK(mizu_collection_all(todos, &text));
    CHECK_STR(text, "{\"t1\":{\"done\":true,\"title\":\"Learn sync\"},"
                    "\"t2\":{\"done\":false,\"title\":\"Write C\"},\"t3\":[1,2,3]}");
    CHECK_OK(mizu_string_free(text));

    CHECK_OK(mizu_collection_delete(todos, "t2"));
    CHECK_OK(mizu_collection_delete(todos, "never-there"));
    bool exists = true;
    CHECK_OK(mizu_collection_exists(todos, "t2", &exists));
    CHECK(!exists);
    CHECK_STATUS(mizu_collection_get(todos, "t2", &text), MIZU_ERR_NOT_FOUND);
    CHECK(text == NULL);
    CHECK(strstr(mizu_last_error_message(), "todo/t2") != NULL);

    CHECK_OK(mizu_entity_delete(first));
    CHECK_OK(mizu_entity_exists(first, &exists));
    CHECK(!exists);
    CHECK_STATUS(mizu_entity_get(first, &text), MIZU_ERR_NOT_FOUND);

    size_t pending = 0;
    CHECK_OK(mizu_client_pending_count(client, &pending));
    CHECK(pending == 6);

    CHECK_OK(mizu_entity_free(first));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
}

/* Records each delivery of a subscription. */
typedef struct {
    int calls;
    char last[256];
    bool last_was_null;
} Seen;

static void on_value(void *user_data, const char *json) {
    Seen *seen = user_data;
    seen->calls++;
    seen->last_was_null = json == NULL;
    snprintf(seen->last, sizeof seen->last, "%s", json ? json : "");
}

static void entity_subscription_wakes_only_for_its_own_entity(void) {
    MizuClient *client = local_client("entity-sub");
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    MizuEntity *watched = NULL;
    CHECK_OK(mizu_collection_entity(todos, "a", &watched));
    Seen seen = {0};
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_entity_subscribe(watched, on_value, &seen, NULL, &subscription));
    CHECK(seen.calls == 1 && seen.last_was_null);

    CHECK_OK(mizu_collection_create(todos, "a", "{\"n\":1}", NULL));
    CHECK(seen.calls == 2);
    CHECK_STR(seen.last, "{\"n\":1}");
    CHECK_OK(mizu_collection_create(todos, "b", "{\"n\":2}", NULL));
    CHECK_OK(mizu_collection_set(todos, "b", "{\"n\":3}"));
    CHECK(seen.calls == 2);
    CHECK_OK(mizu_collection_delete(todos, "a"));
    CHECK(seen.calls == 3 && seen.last_was_null);

    CHECK_OK(mizu_subscription_free(subscription));
    CHECK_OK(mizu_entity_free(watched));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
}

static void collection_subscription_delivers_everything_first_then_only_what_changed(void) {
    MizuClient *client = local_client("collection-sub");
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "b", "{\"n\":3}", NULL));
    CHECK_OK(mizu_collection_create(todos, "a", "[1]", NULL));

    Seen all = {0};
    MizuSubscription *subscription = NULL;
    CHECK_OK(mizu_collection_subscribe(todos, on_value, &all, NULL, &subscription));
    CHECK(all.calls == 1);
    CHECK_STR(all.last, "{\"changed\":[{\"id\":\"a\",\"value\":[1]},{\"id\":\"b\",\"value\":{\"n\":3}}],"
                        "\"removed\":[]}");
    CHECK_OK(mizu_collection_set(todos, "b", "{\"n\":4}"));
    CHECK(all.calls == 2);
    CHECK_STR(all.last, "{\"changed\":[{\"id\":\"b\",\"value\":{\"n\":4}}],\"removed\":[]}");
    CHECK_OK(mizu_collection_create(todos, "c", "\"x\\\"y\"", NULL));
    CHECK(all.calls == 3);
    CHECK_STR(all.last, "{\"changed\":[{\"id\":\"c\",\"value\":\"x\\\"y\"}],\"removed\":[]}");
    CHECK_OK(mizu_collection_delete(todos, "a"));
    CHECK(all.calls == 4);
    CHECK_STR(all.last, "{\"changed\":[],\"removed\":[\"a\"]}");
    /* A write that changes nothing visible is no change. */
    CHECK_OK(mizu_collection_set(todos, "b", "{\"n\":4}"));
    CHECK(all.calls == 4);
    CHECK_OK(mizu_collection_delete(todos, "never-there"));
    CHECK(all.calls == 4);

    CHECK_OK(mizu_subscription_free(subscription));
    CHECK_OK(mizu_collection_create(todos, "d", "1", NULL));
    CHECK(all.calls == 4);
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
}

static void durable_collection_survives_reopening_its_storage_file(void) {
    char path[512];
    temp_db_path(path, sizeof path, "durable");
    char *options = test_options_for(test_base_url(), test_scope("durable"), path);

    MizuClient *client = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    MizuCollection *notes = NULL;
    CHECK_OK(mizu_client_collection(client, "note", &notes));
    CHECK_OK(mizu_collection_create(notes, "n1", "\"kept\"", NULL));
    char *id = NULL;
    CHECK_OK(mizu_client_id(client, &id));
    CHECK_OK(mizu_collection_free(notes));
    CHECK_OK(mizu_client_free(client));

    CHECK_OK(mizu_client_new(options, NULL, &client));
    CHECK_OK(mizu_client_collection(client, "note", &notes));
    char *text = NULL;
    CHECK_OK(mizu_collection_get(notes, "n1", &text));
    CHECK_STR(text, "\"kept\"");
    CHECK_OK(mizu_string_free(text));
    char *reopened_id = NULL;
    CHECK_OK(mizu_client_id(client, &reopened_id));
    CHECK_STR(reopened_id, id);
    size_t pending = 0;
    CHECK_OK(mizu_client_pending_count(client, &pending));
    CHECK(pending == 1);
    CHECK_OK(mizu_string_free(reopened_id));
    CHECK_OK(mizu_string_free(id));
    CHECK_OK(mizu_collection_free(notes));
    CHECK_OK(mizu_client_free(client));
    free(options);
    remove_db(path);
}

int main(int argc, char **argv) {
    static const Test tests[] = {
        {"collection_creates_reads_updates_and_deletes_json_values",
         collection_creates_reads_updates_and_deletes_json_values},
        {"entity_subscription_wakes_only_for_its_own_entity",
         entity_subscription_wakes_only_for_its_own_entity},
        {"collection_subscription_delivers_everything_first_then_only_what_changed",
         collection_subscription_delivers_everything_first_then_only_what_changed},
        {"durable_collection_survives_reopening_its_storage_file",
         durable_collection_survives_reopening_its_storage_file},
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
