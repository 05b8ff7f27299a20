/* server.h -- `itcloud serve`: the HTTP front of the core. */
#ifndef ITCLOUD_SERVER_H
#define ITCLOUD_SERVER_H

/* Serves until SIGTERM/SIGINT, then drains in-flight requests. Returns the exit code. */
int server_run(void);

#endif
