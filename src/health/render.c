/*
 * render.c - renders every body of a snapshot once (see render.h).
 */
#include "render.h"

#include <string.h>

struct dbssl_body dbssl_body_of(char *text)
{
    return (struct dbssl_body){text, text ? strlen(text) : 0};
}

int dbssl_render_snapshot(struct dbssl_snapshot *s, struct dbssl_error *err)
{
    s->ssl_json = dbssl_render_ssl_json(s);
    s->db_json = dbssl_render_db_json(s);
    s->metrics = dbssl_render_metrics(s);
    if (s->ssl_json.data == NULL || s->db_json.data == NULL || s->metrics.data == NULL) {
        dbssl_error_set(err, DBSSL_ERR_NOMEM, NULL, "out of memory");
        return -1;
    }
    return 0;
}
