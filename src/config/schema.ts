/**
 * The whole configuration, composed from one schema per part so each part owns
 * its settings. Every setting has a default: an empty file is a valid config.
 */
import { z } from "zod";
import { adminSection, logSection, shutdownSection } from "./sections/general.js";
import { archiveSection } from "./sections/archive.js";
import { tlsSection } from "./sections/tls.js";
import { federationSection, partnerEntry } from "./sections/partners.js";
import { s2sSection } from "./sections/s2s.js";
import { c2sSection } from "./sections/c2s.js";
import { sipSection } from "./sections/sip.js";
import { dnsSection } from "./sections/dns.js";
import { coreSection } from "./sections/core.js";
import { policySection } from "./sections/policy.js";
import { domainName } from "./sections/domain.js";
import { edgeSection } from "./sections/edge.js";
import { coreLinkSection } from "./sections/core-link.js";

export const configSchema = z
  .object({
    /** Domains this gateway hosts. */
    domains: z.array(domainName).min(1).default(["localhost"]),
    /**
     * single-box hosts the presence core and federates; edge federates and hands
     * traffic to internal servers as a component; core is the presence core
     * behind an edge, accepting its component streams, without federation listeners.
     */
    mode: z.enum(["single-box", "edge", "core"]).default("single-box"),
    /** Where the SQLite archive, journal and other state live. */
    data_dir: z.string().default("data"),
    log: logSection.prefault({}),
    admin: adminSection.prefault({}),
    shutdown: shutdownSection.prefault({}),
    archive: archiveSection.prefault({}),
    tls: tlsSection.prefault({}),
    partners: z.array(partnerEntry).default([]),
    federation: federationSection.prefault({}),
    s2s: s2sSection.prefault({}),
    c2s: c2sSection.prefault({}),
    sip: sipSection.prefault({}),
    dns: dnsSection.prefault({}),
    policy: policySection.prefault({}),
    core: coreSection.prefault({}),
    /** mode: edge only: the internal servers behind this edge. */
    edge: edgeSection.prefault({}),
    /** mode: core only: where the edges' component streams come in. */
    core_link: coreLinkSection.prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
