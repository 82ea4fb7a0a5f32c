# The throwaway PKI of the TLS tests (tls.bats, cluster_tls.bats), made with the openssl CLI.

# make_pki DIR: a CA; a server certificate for localhost and 127.0.0.1; one for localhost
# only; one for 127.0.0.1 only; a client certificate from the CA; and an unrelated CA with
# a client certificate of its own. EC P-256 keys, so that this takes milliseconds.
make_pki() {
    local dir=$1 name
    mkdir -p "$dir"
    cd "$dir" || return 1
    for name in ca other-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
            -subj "/CN=lockrun test $name" -keyout "$name.key" -out "$name.crt" 2>/dev/null
    done
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
    printf 'subjectAltName=DNS:localhost\n' >server-dns.ext
    printf 'subjectAltName=IP:127.0.0.1\n' >server-ip.ext
    issue server ca server.ext
    issue server-dns ca server-dns.ext
    issue server-ip ca server-ip.ext
    issue client ca
    issue stranger other-ca
    cd - >/dev/null || return 1
}

# issue NAME CA [EXTFILE]: NAME.key and NAME.crt, signed by CA.
issue() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
        -keyout "$1.key" -out "$1.csr" 2>/dev/null
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 \
        ${3:+-extfile "$3"} -out "$1.crt" 2>/dev/null
}
