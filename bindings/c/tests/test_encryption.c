/* Encryption at rest and the durability mode through the C API: an encrypted store's file and WAL hold none of the
 * written text, it opens with its `encryption_key` only (MIZU_ERR_WRONG_KEY otherwise),
 * mizu_client_rekey changes the key, and a store without a key stays plain SQLite. The keys here
 * are raw 256-bit keys (x'<64 hex digits>'): no passphrase derivation, which valgrind slows. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#define KEY "x'2DD29CA851E7B56E4697B0E1F08507293D761A05CE4D1B628663F411A8086D99'"
#define NEW_KEY "x'98483C6EB40B6C31A448C22A66DED3B5E5E8D5119CAC8327B655C8B5C4836481'"
#define SECRET "c-local-secret-a8e03"
#define PULLED "c-pulled-secret-51d7f"

/* The bytes of `path` (empty when missing); *size receives their count. Caller frees. */
static unsigned char *read_file(const char *path, size_t *size) {
    *size = 0;
    FILE *file = fopen(path, "rb");
    if (file == NULL) return calloc(1, 1);
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *bytes = malloc(length > 0 ? (size_t)length : 1);
    if (bytes == NULL) abort();
    *size = fread(bytes, 1, length > 0 ? (size_t)length : 0, file);
    fclose(file);
    return bytes;
}

static bool bytes_hold(const unsigned char *bytes, size_t size, const char *needle) {
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= size; i++) {
        if (memcmp(bytes + i, needle, n) == 0) return true;
    }
    return false;
}

/* How many of the store file and its WAL hold `needle` in clear. */
static int files_holding(const char *db, const char *needle) {
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", db);
    const char *paths[] = {db, wal};
    int found = 0;
    for (size_t i = 0; i < 2; i++) {
        size_t size = 0;
        unsigned char *bytes = read_file(paths[i], &size);
        if (bytes_hold(bytes, size, needle)) found++;
        free(bytes);
    }
    return found;
}

static bool has_sqlite_header(const char *db) {
    size_t size = 0;
    unsigned char *bytes = read_file(db, &size);
    bool plain = size >= 16 && memcmp(bytes, "SQLite format 3", 16) == 0;
    free(bytes);
    return plain;
}

/* Options JSON for `base_url` and `scope` on `db`, with `key` (NULL: none). Caller frees. */
static char *options_with_key(const char *base_url, const char *scope, const char *db, const char *key) {
    char *base = test_options_for(base_url, scope, db);
    if (key == NULL) return base;
    size_t size = strlen(base) + strlen(key) + 32;
    char *json = malloc(size);
    if (json == NULL) abort();
    base[strlen(base) - 1] = '\0'; /* drop the closing brace */
    snprintf(json, size, "%s,\"encryption_key\":\"%s\"}", base, key);
    free(base);
    return json;
}

/* Opens a client on `db` with `key`; returns the status (and the client in *out on success). */
static MizuStatus open_client(const char *db, const char *key, MizuClient **out) {
    char *options = options_with_key("http://127.0.0.1:9/_sync", "encryption", db, key);
    MizuStatus status = mizu_client_new(options, NULL, out);
    free(options);
    return status;
}

static void an_encrypted_store_holds_no_plaintext_and_reopens_with_its_key(void) {
    char db[512];
    temp_db_path(db, sizeof db, "encrypted");
    const char *scope = test_scope("encrypted");
    char *options = options_with_key(test_base_url(), scope, db, KEY);
    MizuClient *client = NULL, *other = NULL;
    CHECK_OK(mizu_client_new(options, NULL, &client));
    free(options);
    CHECK_OK(mizu_client_start(client));
    char *other_options = test_options(scope);
    CHECK_OK(mizu_client_new(other_options, NULL, &other));
    free(other_options);
    CHECK_OK(mizu_client_start(other));
    MizuCollection *todos = NULL, *other_todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_client_collection(other, "todo", &other_todos));
    CHECK_OK(mizu_collection_create(todos, "t1", "{\"title\":\"" SECRET "\"}", NULL));
    CHECK_OK(mizu_collection_create(other_todos, "t2", "{\"title\":\"" PULLED "\"}", NULL));
    CHECK_OK(mizu_client_flush(other, 10000));
    CHECK_OK(mizu_client_flush(client, 10000));
    CHECK_OK(mizu_client_sync(client));

    CHECK(!has_sqlite_header(db));
    CHECK(files_holding(db, SECRET) == 0);
    CHECK(files_holding(db, PULLED) == 0);
    CHECK(files_holding(db, "CREATE TABLE") == 0);
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_collection_free(other_todos));
    CHECK_OK(mizu_client_free(client));
    CHECK_OK(mizu_client_free(other));
    CHECK(!has_sqlite_header(db));
    CHECK(files_holding(db, SECRET) == 0);
    CHECK(files_holding(db, PULLED) == 0);

    CHECK_OK(open_client(db, KEY, &client));
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    char *all = NULL;
    CHECK_OK(mizu_collection_all(todos, &all));
    CHECK_STR(all, "{\"t1\":{\"title\":\"" SECRET "\"},\"t2\":{\"title\":\"" PULLED "\"}}");
    CHECK_OK(mizu_string_free(all));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
    remove_db(db);
}

static void a_plain_store_holds_the_same_text_in_clear(void) {
    char db[512];
    temp_db_path(db, sizeof db, "plain");
    MizuClient *client = NULL;
    CHECK_OK(open_client(db, NULL, &client));
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "t1", "{\"title\":\"" SECRET "\"}", NULL));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
    CHECK(has_sqlite_header(db));
    CHECK(files_holding(db, SECRET) > 0);
    remove_db(db);
}

static void a_wrong_or_missing_key_fails_with_wrong_key(void) {
    char db[512];
    temp_db_path(db, sizeof db, "wrong-key");
    MizuClient *client = NULL;
    CHECK_OK(open_client(db, KEY, &client));
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    CHECK_OK(mizu_collection_create(todos, "t1", "{\"title\":\"" SECRET "\"}", NULL));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));

    client = (MizuClient *)1;
    CHECK_STATUS(open_client(db, NEW_KEY, &client), MIZU_ERR_WRONG_KEY);
    CHECK(client == NULL);
    CHECK(strstr(mizu_last_error_message(), "does not decrypt") != NULL);
    CHECK_STATUS(open_client(db, NULL, &client), MIZU_ERR_WRONG_KEY);
    CHECK(strstr(mizu_last_error_message(), "is encrypted") != NULL);
    CHECK_STR(mizu_status_name(MIZU_ERR_WRONG_KEY), "MIZU_ERR_WRONG_KEY");

    CHECK_OK(open_client(db, KEY, &client));
    size_t pending = 0;
    CHECK_OK(mizu_client_pending_count(client, &pending));
    CHECK(pending == 1);
    CHECK_OK(mizu_client_free(client));
    remove_db(db);
}

static void rekey_then_only_the_new_key_opens_the_store(void) {
    char db[512];
    temp_db_path(db, sizeof db, "rekey");
    MizuClient *client = NULL;
    CHECK_OK(open_client(db, KEY, &client));
    MizuCollection *todos = NULL;
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    char id[32];
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "t%03d", i);
        CHECK_OK(mizu_collection_create(todos, id, "{\"title\":\"before\"}", NULL));
    }
    CHECK_OK(mizu_client_rekey(client, NEW_KEY));
    CHECK_OK(mizu_collection_create(todos, "after", "{\"title\":\"" SECRET "\"}", NULL));
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
    CHECK(files_holding(db, SECRET) == 0);

    CHECK_STATUS(open_client(db, KEY, &client), MIZU_ERR_WRONG_KEY);
    CHECK_OK(open_client(db, NEW_KEY, &client));
    CHECK_OK(mizu_client_collection(client, "todo", &todos));
    size_t count = 0;
    CHECK_OK(mizu_collection_count(todos, &count));
    CHECK(count == 51);
    CHECK_OK(mizu_collection_free(todos));
    CHECK_OK(mizu_client_free(client));
    remove_db(db);
}

static void rekey_and_key_misuse_fail_with_invalid_argument(void) {
    char db[512];
    temp_db_path(db, sizeof db, "misuse");
    MizuClient *client = NULL;
    CHECK_OK(open_client(db, NULL, &client));
    CHECK_STATUS(mizu_client_rekey(client, NEW_KEY), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(strstr(mizu_last_error_message(), "not encrypted") != NULL);
    CHECK_STATUS(mizu_client_rekey(client, NULL), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_OK(mizu_client_close(client));
    CHECK_STATUS(mizu_client_rekey(client, NEW_KEY), MIZU_ERR_CLOSED);
    CHECK_OK(mizu_client_free(client));
    remove_db(db);

    CHECK_OK(open_client(db, KEY, &client));
    CHECK_STATUS(mizu_client_rekey(client, ""), MIZU_ERR_INVALID_ARGUMENT);
    CHECK_OK(mizu_client_free(client));
    remove_db(db);

    CHECK_STATUS(mizu_client_new("{\"base_url\":\"http://127.0.0.1:9/_sync\",\"encryption_key\":\"k\"}",
                                 NULL, &client),
                 MIZU_ERR_INVALID_ARGUMENT);
    CHECK(strstr(mizu_last_error_message(), "needs a storage_path") != NULL);
    CHECK_STATUS(open_client(db, "", &client), MIZU_ERR_INVALID_ARGUMENT);
    remove_db(db);
}

/* Opens a client on `db` (NULL: in memory) with `extra` JSON members appended to the options. */
static MizuStatus open_with(const char *db, const char *extra, MizuClient **out) {
    char json[1200];
    if (db != NULL) {
        snprintf(json, sizeof json, "{\"base_url\":\"http://127.0.0.1:9/_sync\",\"storage_path\":\"%s\"%s}",
                 db, extra);
    } else {
        snprintf(json, sizeof json, "{\"base_url\":\"http://127.0.0.1:9/_sync\"%s}", extra);
    }
    return mizu_client_new(json, NULL, out);
}

static void the_durability_option_is_the_store_files_synchronous_mode(void) {
    char db[512];
    temp_db_path(db, sizeof db, "durability");
    const struct {
        const char *extra;
        MizuDurability expected;
    } cases[] = {
        {"", MIZU_DURABILITY_FULL},
        {",\"durability\":\"normal\"", MIZU_DURABILITY_NORMAL},
        {",\"durability\":\"full\"", MIZU_DURABILITY_FULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        MizuClient *client = NULL;
        CHECK_OK(open_with(db, cases[i].extra, &client));
        MizuDurability mode = MIZU_DURABILITY_MEMORY;
        CHECK_OK(mizu_client_durability(client, &mode));
        CHECK(mode == cases[i].expected);
        CHECK_STATUS(mizu_client_durability(client, NULL), MIZU_ERR_INVALID_ARGUMENT);
        CHECK_OK(mizu_client_close(client));
        CHECK_STATUS(mizu_client_durability(client, &mode), MIZU_ERR_CLOSED);
        CHECK_OK(mizu_client_free(client));
    }
    remove_db(db);

    MizuClient *client = NULL;
    CHECK_OK(open_with(NULL, ",\"durability\":\"normal\"", &client));
    MizuDurability mode = MIZU_DURABILITY_FULL;
    CHECK_OK(mizu_client_durability(client, &mode));
    CHECK(mode == MIZU_DURABILITY_MEMORY);
    CHECK_OK(mizu_client_free(client));

    CHECK_STATUS(open_with(db, ",\"durability\":\"off\"", &client), MIZU_ERR_INVALID_ARGUMENT);
    CHECK(client == NULL);
    CHECK(strstr(mizu_last_error_message(), "durability") != NULL);
    CHECK_STATUS(open_with(db, ",\"durability\":2", &client), MIZU_ERR_INVALID_ARGUMENT);
    remove_db(db);
}

int main(int argc, char **argv) {
    static const Test tests[] = {
        {"an_encrypted_store_holds_no_plaintext_and_reopens_with_its_key",
         an_encrypted_store_holds_no_plaintext_and_reopens_with_its_key},
        {"a_plain_store_holds_the_same_text_in_clear", a_plain_store_holds_the_same_text_in_clear},
        {"a_wrong_or_missing_key_fails_with_wrong_key", a_wrong_or_missing_key_fails_with_wrong_key},
        {"rekey_then_only_the_new_key_opens_the_store", rekey_then_only_the_new_key_opens_the_store},
        {"rekey_and_key_misuse_fail_with_invalid_argument",
         rekey_and_key_misuse_fail_with_invalid_argument},
        {"the_durability_option_is_the_store_files_synchronous_mode",
         the_durability_option_is_the_store_files_synchronous_mode},
    };
    return run_tests(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
