/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One JSON writer for every program and stats report: it places the commas, escapes every
 * string (quotes, backslashes, control characters, and invalid UTF-8 as U+FFFD), and writes
 * non-finite numbers as null, so a peer's text can never break the document.
 *
 *	struct json j;
 *	json_init(&j, stdout);
 *	json_object_begin(&j);
 *	json_kv_str(&j, "failure", text);
 *	json_key(&j, "latency_us");
 *	json_array_begin(&j);
 *	json_double(&j, 12.5, 1);
 *	json_array_end(&j);
 *	json_object_end(&j);   // at depth 0 this ends the line
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *out;
	unsigned int depth;
	bool after_key;
	bool first[JSON_MAX_DEPTH + 1]; /* no member written yet at this depth */
};

void json_init(struct json *j, FILE *out);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* The name of the next member of the current object. */
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s); /* NULL writes null */
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/*
 * Writes the separator the next value needs, for a caller that then writes one complete value
 * to j->out itself (another library's JSON writer).
 */
void json_value_prepare(struct json *j);

void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
void json_kv_i64(struct json *j, const char *key, int64_t v);
void json_kv_double(struct json *j, const char *key, double v, int decimals);
void json_kv_bool(struct json *j, const char *key, bool v);

/* Where a program's --json goes: "-" is stdout, else the file (NULL with errno on failure). */
FILE *json_output_open(const char *path);
/* Closes what json_output_open() opened (stdout is only flushed). */
void json_output_close(FILE *f);

/* Writes s as a JSON string literal, quotes included. */
void json_write_string(FILE *out, const char *s);

#endif
