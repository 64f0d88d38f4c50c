/*
    The --help texts of `fiber-mqtt pub` and `fiber-mqtt sub`.
 */
export const USAGE = {
    pub: `fiber-mqtt pub publishes a message on a topic and exits (mosquitto_pub's options, MQTT 3.1.1 or 5).

Usage: fiber-mqtt pub {[-h host] [--unix path] [-p port] [-u username] [-P password] -t topic | -L URL}
                      {-f file | -l | -n | -m message | -s}
                      [-c] [-k keepalive] [-q qos] [-r] [--repeat N] [--repeat-delay time]
                      [-i id] [-I id_prefix] [-d] [--quiet] [-M max_inflight] [-V mqttv311|mqttv5] [-x expiry]
                      [-D command property value]
                      [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]
                      [{--cafile file | --capath dir} [--cert file] [--key file] [--ciphers ciphers]
                        [--insecure] [--tls-alpn protocol] [--tls-version version] [--tls-use-os-certs]]
       fiber-mqtt pub --help

 -f : send the contents of a file as the message.     -l : read messages from stdin, one per line.
 -m : message payload to send.                        -n : send a null (zero length) message.
 -s : read the message from stdin, whole.             -q : quality of service level (0, 1 or 2). Default 0.
 -r : message should be retained.                     -L : mqtt(s)://[username[:password]@]host[:port]/topic
 --repeat N, --repeat-delay secs: publish N times.    -M : messages in flight at once (default 20).
 -D : an MQTT 5 property: -D command name value (user-property: name key value); the command is connect,
      publish, disconnect or will. -V mqttv5: MQTT 5.  -x : MQTT 5 session expiry interval (seconds).
 -h, -p, --unix, -i, -I, -u, -P, -k, -c, -d, --quiet, --will-*, TLS options: as for mosquitto_pub.`,
    sub: `fiber-mqtt sub subscribes to topics and prints the messages it receives (mosquitto_sub's options, MQTT 3.1.1 or 5).

Usage: fiber-mqtt sub {[-h host] [--unix path] [-p port] [-u username] [-P password] -t topic ... | -L URL [-t topic]}
                      [-c] [-k keepalive] [-q qos] [-C msg_count] [-E] [-R] [--retained-only] [--remove-retained]
                      [-T filter_out] [-U topic ...] [-F format] [-W timeout_secs] [-i id] [-I id_prefix]
                      [-d] [-N] [--quiet] [-v] [--pretty] [--random-filter percent] [-V mqttv311|mqttv5] [-x expiry]
                      [-D command property value] [--retain-as-published]
                      [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]
                      [{--cafile file | --capath dir} [--cert file] [--key file] [--ciphers ciphers]
                        [--insecure] [--tls-alpn protocol] [--tls-version version] [--tls-use-os-certs]]
       fiber-mqtt sub --help

 -t : topic to subscribe to; may be repeated.         -v : print the topic before each message.
 -C : exit after msg_count messages.                  -W : exit after timeout_secs (exit code 27).
 -E : exit once the subscriptions are acknowledged.   -R : do not print stale (retained) messages.
 -T : topic not to print; may be repeated.            -U : unsubscribe from a topic; may be repeated.
 -F : output format (%t %p %q %r %m %l %x %X %j %J %I %U %%, MQTT 5's %A %C %D %E %F %P %R %S,
      @ time directives, \\ escapes).
 -D : an MQTT 5 property (connect, subscribe, unsubscribe, disconnect, will); -V mqttv5: MQTT 5.
 -c : persistent session (needs -i or -I).            -N : do not add an end of line after each message.
 --retained-only : print retained messages only, exit at the first that is not.
 --remove-retained : clear the retained messages received (with -T to keep some).`,
}
