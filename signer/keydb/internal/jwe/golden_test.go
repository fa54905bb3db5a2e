package jwe

// Tokens made by jose2go v0.0.0-20170216131308-f21a8cedbbae (the version
// Notary v0.7.0 pins) with jose.Encrypt(string(priv), PBES2_HS256_A128KW,
// A256GCM, "randompass"), where priv (jose2goPlaintextB64) is the 96-byte
// v1 form of the ed25519 key whose seed bytes are i*7 for i in 0..31.
//
// jose2goGo114Token was made with Go 1.14.15, like the official v0.7.0
// images (golang:1.14.1): standard PBKDF2. jose2goGo115Token was made with
// Go 1.15.15, whose hmac caching turns jose2go's shared hash into a
// non-standard PBKDF2 (see deriveKEKGo115). With Go 1.16+ that jose2go
// panics in hmac.New, so no other variant exists.
const (
	jose2goGo114Token = "eyJhbGciOiJQQkVTMi1IUzI1NitBMTI4S1ciLCJlbmMiOiJBMjU2R0NNIiwicDJjIjo4MTkyLCJwMnMiOiJFbEJjejdNVnYwU3pTWHNzIn0." +
		"mTzXaMaRnBpK4yv2bibI-t1cR93dHY42bBSTtdsysxhm6BiR3lGjIg." +
		"Y5oMdbA7VROhFBAI." +
		"XdrM-gATfWgbP6hvEJHlHlSYj0LaJ4VM8FJaOuasFjFlAADi9LRffrClY-vJqZFjuoyDD0xYfrtiXui22NssWK_IGqF9rnVIK3zWsLpcT1ASwTECJJrQXrfiBfSAMWJM." +
		"2cEhutyHCUDwBzUeeaHD7g"
	jose2goGo115Token = "eyJhbGciOiJQQkVTMi1IUzI1NitBMTI4S1ciLCJlbmMiOiJBMjU2R0NNIiwicDJjIjo4MTkyLCJwMnMiOiJGV1c5UWtvT1pVZDljY0p3In0." +
		"G-4gRboyDoYDZT4cKTildonAIRk18D1b4ZpCWtmsE31usH09I5qxbg." +
		"LAyBVGnGDasqiaie." +
		"2Vpk2p7A7iLPc_6hZ_gt0_4m949xUKRQyDkapD2JtCv6a-0yf8aicwkWMyMRAFRPuOYPO9Q8ENWjFfh0M7ii763HQv8ihPrMOWl2JQSmrf1UjF4eqQ8hFAThMv_W0gjV." +
		"PdepGB0OQ0mrFhvT8iCHVg"
	jose2goPassphrase   = "randompass"
	jose2goPlaintextB64 = "TQ7DoNA_7_-TqbzOKiS0BtRvRK7_H3eH2u2xPKr6QCwABw4VHCMqMTg_Rk1UW2JpcHd-hYyTmqGor7a9xMvS2U0Ow6DQP-__k6m8zioktAbUb0Su_x93h9rtsTyq-kAs"
)

// sealedFixedToken is seal(&fixedReader{}, "notary signer private key
// bytes", "passphrase", 8192). It opened with jose2go built with Go
// 1.14.15 and with go-jose v4.1.9.
const sealedFixedToken = "eyJhbGciOiJQQkVTMi1IUzI1NitBMTI4S1ciLCJlbmMiOiJBMjU2R0NNIiwicDJjIjo4MTkyLCJwMnMiOiJBQUVDQXdRRkJnY0lDUW9MIn0." +
	"y-RnfEjjwDA12wVCekpAi1RRZ_I1AQxtWr-h6g0aI61zpdAPLTRWtQ." +
	"LC0uLzAxMjM0NTY3." +
	"G5gAdlDMlVEmXg20CL2bN5BwR5-RVCE08XsT8qGK4w." +
	"k0oqCF3Zyo4wzZ-YCGFEfw"
