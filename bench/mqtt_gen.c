/* The e2e bench's load generator: N sensors, one MQTT connection each with its own credentials,
 * publishing a total of COUNT QoS 1 messages in the platform's JSON format, round-robin, as fast as
 * the broker acknowledges them. The Python generators (paho) topped out at 4-8k msg/s on two loaded
 * cores, below the ingest they were meant to load; this one spends a few µs per message.
 *
 * Built by bench/mqtt_e2e.py into a temporary folder at run time:  cc -O2 mqtt_gen.c -lmosquitto
 *
 *   mqtt_gen PORT COUNT WINDOW SENSORS_FILE      (one "device_id password" a line)
 *
 * Connects every sensor, prints {"connected": N}, waits for a line on stdin (the bench's "go"),
 * publishes, and prints {"published": COUNT, "seconds": S} once every PUBACK is in. WINDOW is the
 * most un-acknowledged messages per connection. One thread polls every socket (no thread per
 * connection). Exit 1 with a message on stderr on any failure. */
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sensor {
    struct mosquitto *mosq;
    int device_id;
    int connected;
    int in_flight;
    char topic[64];
};

static long acked;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_connect(struct mosquitto *mosq, void *data, int rc) {
    struct sensor *s = data;
    (void)mosq;
    if (rc != 0) {
        fprintf(stderr, "mqtt_gen: sensor %d refused: %s\n", s->device_id, mosquitto_connack_string(rc));
        exit(1);
    }
    s->connected = 1;
}

static void on_publish(struct mosquitto *mosq, void *data, int mid) {
    struct sensor *s = data;
    (void)mosq;
    (void)mid;
    s->in_flight--;
    acked++;
}

static void pump(struct sensor *sensors, struct pollfd *fds, int n, int timeout_ms) {
    for (int i = 0; i < n; i++) {
        fds[i].fd = mosquitto_socket(sensors[i].mosq);
        fds[i].events = POLLIN | (mosquitto_want_write(sensors[i].mosq) ? POLLOUT : 0);
        fds[i].revents = 0;
    }
    if (poll(fds, n, timeout_ms) < 0) {
        perror("mqtt_gen: poll");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        struct mosquitto *m = sensors[i].mosq;
        int rc = MOSQ_ERR_SUCCESS;
        if (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) rc = mosquitto_loop_read(m, 64);
        if (rc == MOSQ_ERR_SUCCESS && (fds[i].revents & POLLOUT)) rc = mosquitto_loop_write(m, 64);
        if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_misc(m);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqtt_gen: sensor %d: %s\n", sensors[i].device_id, mosquitto_strerror(rc));
            exit(1);
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: mqtt_gen PORT COUNT WINDOW SENSORS_FILE\n");
        return 2;
    }
    FILE *list = fopen(argv[4], "r");
    if (!list) {
        perror("mqtt_gen: sensors file");
        return 2;
    }
    int port = atoi(argv[1]);
    long count = atol(argv[2]);
    int window = atoi(argv[3]);
    int n = 0;
    char password[256];
    int device_id;
    while (fscanf(list, "%d %255s", &device_id, password) == 2) n++;
    if (n == 0) {
        fprintf(stderr, "mqtt_gen: no sensors in %s\n", argv[4]);
        return 2;
    }
    /* Allocated once: each sensor's address is libmosquitto's callback data. */
    struct sensor *sensors = calloc(n, sizeof *sensors);
    rewind(list);
    mosquitto_lib_init();
    for (int i = 0; i < n && fscanf(list, "%d %255s", &device_id, password) == 2; i++) {
        struct sensor *s = &sensors[i];
        s->device_id = device_id;
        snprintf(s->topic, sizeof s->topic, "ioc/v1/d/%d/telemetry", device_id);
        char client_id[32], username[16];
        snprintf(client_id, sizeof client_id, "gen-%d", device_id);
        snprintf(username, sizeof username, "%d", device_id);
        s->mosq = mosquitto_new(client_id, true, s);
        if (!s->mosq) {
            perror("mqtt_gen: mosquitto_new");
            return 1;
        }
        mosquitto_username_pw_set(s->mosq, username, password);
        mosquitto_connect_callback_set(s->mosq, on_connect);
        mosquitto_publish_callback_set(s->mosq, on_publish);
        int rc = mosquitto_connect(s->mosq, "127.0.0.1", port, 60);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqtt_gen: connect: %s\n", mosquitto_strerror(rc));
            return 1;
        }
    }
    fclose(list);
    struct pollfd *fds = calloc(n, sizeof *fds);
    for (int ready = 0; ready < n;) {
        pump(sensors, fds, n, 100);
        ready = 0;
        for (int i = 0; i < n; i++) ready += sensors[i].connected;
    }
    printf("{\"connected\": %d}\n", n);
    fflush(stdout);
    char go[16];
    if (!fgets(go, sizeof go, stdin)) return 1; /* the bench's "go" line; EOF means it gave up */

    double ts0 = (double)time(NULL) - 3600, start = now();
    long sent = 0;
    char payload[160];
    while (acked < count) {
        int progressed = 1;
        while (sent < count && progressed) {
            progressed = 0;
            for (int i = 0; i < n && sent < count; i++) {
                struct sensor *s = &sensors[i];
                if (s->in_flight >= window) continue;
                int len = snprintf(payload, sizeof payload,
                                   "{\"ts\": %.3f, \"fields\": {\"temperature\": %.1f, \"humidity\": 61.5}}",
                                   ts0 + sent * 1e-3, 20 + (sent % 97) / 10.0);
                int rc = mosquitto_publish(s->mosq, NULL, s->topic, len, payload, 1, false);
                if (rc != MOSQ_ERR_SUCCESS) {
                    fprintf(stderr, "mqtt_gen: publish: %s\n", mosquitto_strerror(rc));
                    return 1;
                }
                s->in_flight++;
                sent++;
                progressed = 1;
            }
        }
        pump(sensors, fds, n, 1000);
    }
    double seconds = now() - start;
    for (int i = 0; i < n; i++) {
        mosquitto_disconnect(sensors[i].mosq);
        mosquitto_loop_write(sensors[i].mosq, 1);
        mosquitto_destroy(sensors[i].mosq);
    }
    mosquitto_lib_cleanup();
    printf("{\"published\": %ld, \"seconds\": %.3f}\n", count, seconds);
    return 0;
}
