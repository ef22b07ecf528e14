/*
 * view_svc.h - the files of services/NAME/ that read more than the
 * Service itself: its cluster IP, its ready endpoints and a status that
 * joins the Service with its Endpoints (engine/api/svc.h).
 *
 *     $ cat /cluster/services/web/clusterip
 *     10.96.183.27
 *     $ cat /cluster/services/web/endpoints
 *     10.100.0.1:8080
 *     10.100.0.2:8080
 *
 * Renderers for view_fields.c's field table; each is rendered from the API when
 * read, so it is never stale.  Thread-safe: no state.
 */
#ifndef CFS_VIEW_SVC_H
#define CFS_VIEW_SVC_H

#include "fs/view.h"

/* clusterip: the IP, or None for a headless Service; a line. */
void view_svc_clusterip(struct view *v, const struct sobj *o, const char *key, struct buf *out);
/* endpoints: ready IP:PORT, one a line, sorted (by IP, then port); empty
 * when there are none. */
void view_svc_endpoints(struct view *v, const struct sobj *o, const char *key, struct buf *out);
/* status: YAML of .status (loadBalancer) with type, clusterIP, ports (with
 * their nodePorts) and counts of ready and not-ready endpoints. */
void view_svc_status(struct view *v, const struct sobj *o, const char *key, struct buf *out);

#endif
