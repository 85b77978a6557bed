// Intentional copy of lib/vit/configs.ts's param-count region with the CLS token forgotten: a sample submission for partial credit.
const {patchSize: P, channels: C, dModel: D, dFF: F, numLayers: L, numClasses: K} = cfg;
const T = numTokens(cfg);
const patchEmbed = P * P * C * D + D;
const clsToken = 0; // forgot the CLS token
const posEmbed = T * D;
const perBlock = 4 * D + (3 * D * D + 3 * D) + (D * D + D) + (D * F + F) + (F * D + D);
const blocks = L * perBlock;
const norm = 2 * D;
const head = (cfg.pool === 'flatten' ? T * D : D) * K + K;
return {patchEmbed, clsToken, posEmbed, perBlock, blocks, norm, head, total: patchEmbed + clsToken + posEmbed + blocks + norm + head};
