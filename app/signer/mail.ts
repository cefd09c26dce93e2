/**
 * The "Mail" example of the EIP-712 specification (eips.ethereum.org/EIPS/eip-712, Example.js),
 * with the digest and the signature by the "cow" key that the specification publishes. Test data.
 */
export const MAIL_EXAMPLE = {
  domain: {
    name: 'Ether Mail',
    version: '1',
    chainId: 1,
    verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
  },
  types: {
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
    ],
  },
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
  /** keccak256("\x19\x01" ‖ domainSeparator ‖ hashStruct(message)) as published. */
  digest: '0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2',
  /** The "cow" key: keccak256("cow"). */
  cowPrivateKey: '0xc85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4',
  cowAddress: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826',
  /** The published signature of the digest by the cow key. */
  signature: {
    v: 28,
    r: '0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d',
    s: '0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562',
  },
} as const;
