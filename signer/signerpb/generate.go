// Package signerpb holds the generated Go code for the notary-signer gRPC
// API (signer.proto). The generated files are committed: building the
// module needs neither protoc nor its plugins.
//
// To regenerate after editing signer.proto (protoc 3.21+, protoc-gen-go
// matching google.golang.org/protobuf in go.mod, protoc-gen-go-grpc):
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//	go generate ./signer/signerpb
package signerpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative signer.proto
