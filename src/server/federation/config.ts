/** Federation settings: our bundle endpoint and the foreign bundle endpoints we fetch. */

export type BundleEndpointProfile = 'https_web' | 'https_spiffe';

export interface BundleEndpointConfig {
  /** Listen address; default 127.0.0.1 (loopback unless configured otherwise). */
  readonly address?: string;
  /** Listen port (0: any free port, for tests). */
  readonly port: number;
  readonly profile: BundleEndpointProfile;
  /** https_web: PEM certificate chain and its private key. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** `spiffe_refresh_hint` of the served bundle, seconds; default 300. */
  readonly refreshHint?: number;
}

export interface FederationRelationship {
  /** The foreign trust domain name (never inferred from the URL). */
  readonly trustDomain: string;
  /** `https://…` */
  readonly bundleEndpointUrl: string;
  readonly profile: BundleEndpointProfile;
  /** https_spiffe: the SPIFFE ID the endpoint's SVID must carry, exactly. */
  readonly endpointSpiffeId?: string;
  /** https_spiffe: the foreign bundle to trust before the first fetch (SPIFFE bundle JSON or PEM). */
  readonly initialBundleFile?: string;
  /** https_web: extra CA certificates (PEM) trusted for the endpoint, instead of Node's public roots. */
  readonly caFile?: string;
}

export interface FederationConfig {
  readonly bundleEndpoint?: BundleEndpointConfig;
  readonly federatesWith?: readonly FederationRelationship[];
}
