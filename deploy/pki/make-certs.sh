#!/bin/sh
# make-certs.sh OUTDIR: a private CA and the four certificates a Notary
# deployment needs, each with the names and key usages its peer checks.
#
#   ca.crt / ca.key                        the CA (keep ca.key offline)
#   notary-server.crt / .key               notary-server's HTTPS (serverAuth),
#                                          for $SERVER_NAME, localhost, 127.0.0.1
#   notary-signer.crt / .key               notary-signer's gRPC TLS (serverAuth), for
#                                          "notary-signer" (trust_service.tls_server_name)
#   notary-server-client.crt / .key        notary-server's client certificate to the
#                                          signer (clientAuth), CN "notary-server"
#                                          (the name in the signer's authorization section)
#   notary-auth.crt / .key                 notary-auth's HTTPS (serverAuth), for $AUTH_NAME
#
# Environment: SERVER_NAME (default notary.example.com), AUTH_NAME
# (default auth.example.com), DAYS (leaf lifetime, default 397),
# CA_DAYS (default 3650). Keys are ECDSA P-256, written 0600. An existing
# CA in OUTDIR is reused (so leaves can be renewed without re-trusting).
# notary-auth's *token signing* key is separate: make it with
# `notary-auth keygen` (see docs/guide/production.md).
set -eu

out=${1:?usage: make-certs.sh OUTDIR}
server_name=${SERVER_NAME:-notary.example.com}
auth_name=${AUTH_NAME:-auth.example.com}
days=${DAYS:-397}
ca_days=${CA_DAYS:-3650}

umask 077
mkdir -p "$out"
cd "$out"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

if [ ! -f ca.key ]; then
	key ca.key
	cat > ca.ext <<EOT
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOT
	openssl req -new -key ca.key -subj "/CN=Notary private CA" -out ca.csr
	openssl x509 -req -in ca.csr -signkey ca.key -days "$ca_days" -sha256 -extfile ca.ext -out ca.crt 2>/dev/null
	rm -f ca.csr ca.ext
fi

# leaf NAME CN EKU SAN
leaf() {
	key "$1.key"
	cat > "$1.ext" <<EOT
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = $3
subjectAltName = $4
authorityKeyIdentifier = keyid
EOT
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
		-days "$days" -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
	chmod 644 "$1.crt"
}

leaf notary-server "$server_name" serverAuth "DNS:$server_name, DNS:localhost, IP:127.0.0.1"
leaf notary-signer notary-signer serverAuth "DNS:notary-signer, DNS:localhost, IP:127.0.0.1"
leaf notary-server-client notary-server clientAuth "DNS:notary-server"
leaf notary-auth "$auth_name" serverAuth "DNS:$auth_name, DNS:localhost, IP:127.0.0.1"
chmod 644 ca.crt
echo "certificates in $(pwd):"
ls -l
