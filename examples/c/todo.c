/*
 * todo: two clients sharing a todo list through a mizu sync server, in C.
 *
 *   make && ./todo http://127.0.0.1:8080/_sync
 *
 * Alice writes, Bob watches: a collection subscription prints what changed in Bob's list, a
 * live query prints the diffs of his open todos (sorted by title), both on the thread that made
 * the change (his sync thread for Alice's writes), and an effect keeps a count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mizu_sync.h"

/* Prints the failed call and the library's message, and leaves. */
#define TRY(call)                                                                               \
    do {                                                                                        \
        MizuStatus status_ = (call);                                                            \
        if (status_ != MIZU_OK) {                                                               \
            fprintf(stderr, "%s failed: %s: %s\n", #call, mizu_status_name(status_),            \
                    mizu_last_error_message());                                                 \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

static MizuClient *open_client(const char *base_url, const char *scope) {
    char options[512];
    snprintf(options, sizeof options,
             "{\"base_url\":\"%s\",\"scope\":\"%s\",\"push_interval_ms\":100,"
             "\"pull_interval_ms\":500}",
             base_url, scope);
    MizuClient *client = NULL;
    TRY(mizu_client_new(options, NULL, &client));
    TRY(mizu_client_start(client));
    return client;
}

/* Called with every todo of Bob's first, then with only what changed:
 * {"changed":[{"id":..,"value":..}],"removed":[ids]}. */
static void print_changes(void *user_data, const char *json) {
    printf("%s sees %s\n", (const char *)user_data, json);
    fflush(stdout);
}

/* Called with the query's rows first ({"result":[...]}), then with each diff ({"diff":[...]}). */
static void print_query_event(void *user_data, const char *json) {
    printf("%s: %s\n", (const char *)user_data, json);
    fflush(stdout);
}

/* An effect: re-runs when the number of Bob's todos changes. */
static void print_count(void *user_data) {
    size_t count = 0;
    if (mizu_collection_count(user_data, &count) == MIZU_OK) printf("bob has %zu todos\n", count);
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s BASE_URL [SCOPE]\n", argv[0]);
        return 2;
    }
    const char *scope = argc > 2 ? argv[2] : "user:demo";
    printf("mizu-sync %s\n", mizu_version());

    MizuClient *alice = open_client(argv[1], scope);
    MizuClient *bob = open_client(argv[1], scope);
    MizuCollection *alice_todos = NULL, *bob_todos = NULL;
    TRY(mizu_client_collection(alice, "todo", &alice_todos));
    TRY(mizu_client_collection(bob, "todo", &bob_todos));

    MizuSubscription *watch = NULL;
    TRY(mizu_collection_subscribe(bob_todos, print_changes, (void *)"bob", NULL, &watch));
    MizuQuery *open = NULL;
    TRY(mizu_collection_query(bob_todos,
                              "{\"filter\":{\"field\":\"completed\",\"op\":\"eq\",\"value\":false},"
                              "\"order_by\":[{\"field\":\"title\"}]}",
                              &open));
    MizuSubscription *open_watch = NULL;
    TRY(mizu_query_subscribe(open, print_query_event, (void *)"bob's open todos", NULL,
                             &open_watch));
    MizuEffect *counter = NULL;
    TRY(mizu_effect_new(print_count, bob_todos, NULL, &counter));

    TRY(mizu_collection_create(alice_todos, "todo-1", "{\"title\":\"Learn sync\",\"completed\":false}", NULL));
    TRY(mizu_collection_create(alice_todos, "todo-2", "{\"title\":\"Write C\",\"completed\":false}", NULL));
    TRY(mizu_collection_set(alice_todos, "todo-1", "{\"title\":\"Learn sync\",\"completed\":true}"));
    TRY(mizu_client_flush(alice, 10000)); /* the server has Alice's writes */
    TRY(mizu_client_sync(bob));           /* Bob pulls them (the poll would, too) */

    char *list = NULL;
    TRY(mizu_collection_all(bob_todos, &list));
    printf("bob's list after sync: %s\n", list);
    int converged = strstr(list, "\"todo-2\"") != NULL;
    TRY(mizu_string_free(list));
    char *open_ids = NULL;
    TRY(mizu_query_ids(open, &open_ids));
    printf("bob's open todos after sync: %s\n", open_ids);
    converged = converged && strcmp(open_ids, "[\"todo-2\"]") == 0;
    TRY(mizu_string_free(open_ids));

    TRY(mizu_effect_free(counter));
    TRY(mizu_subscription_free(open_watch));
    TRY(mizu_query_free(open));
    TRY(mizu_subscription_free(watch));
    TRY(mizu_collection_free(alice_todos));
    TRY(mizu_collection_free(bob_todos));
    TRY(mizu_client_free(alice));
    TRY(mizu_client_free(bob));
    return converged ? 0 : 1;
}
