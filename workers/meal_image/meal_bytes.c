#include "meal_bytes.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hf_err.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int refuse(char *why, size_t whysz, const char *text)
{
    snprintf(why, whysz, "%s", text);
    return HF_EINVAL;
}

/* Chunks from offset 8 on: IHDR first, IEND last and at the very end. */
static int check_png(const unsigned char *d, size_t len, struct meal_image_info *info, char *why, size_t whysz)
{
    if (len < 33 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
        return refuse(why, whysz, "the PNG has no valid IHDR header");
    info->width = (int)(be32(d + 16) > 0x7fffffff ? 0x7fffffff : be32(d + 16));
    info->height = (int)(be32(d + 20) > 0x7fffffff ? 0x7fffffff : be32(d + 20));
    size_t off = 8;
    while (off + 12 <= len) {
        uint32_t n = be32(d + off);
        if (n > len - off - 12)
            return refuse(why, whysz, "the PNG is cut short (a chunk runs past the end of the file)");
        if (memcmp(d + off + 4, "IEND", 4) == 0) {
            if (off + 12 + n != len)
                return refuse(why, whysz, "the PNG has bytes after its end");
            return 0;
        }
        off += 12 + n;
    }
    return refuse(why, whysz, "the PNG is cut short (no IEND chunk)");
}

/* Markers up to the first start-of-frame, whose header holds the size; the
 * file must end with the end-of-image marker. */
static int check_jpeg(const unsigned char *d, size_t len, struct meal_image_info *info, char *why, size_t whysz)
{
    if (len < 4 || d[len - 2] != 0xFF || d[len - 1] != 0xD9)
        return refuse(why, whysz, "the JPEG is cut short (no end-of-image marker)");
    size_t off = 2;
    while (off + 4 <= len) {
        if (d[off] != 0xFF)
            return refuse(why, whysz, "the JPEG's marker structure is broken");
        unsigned char m = d[off + 1];
        if (m == 0xFF) { /* fill byte */
            off++;
            continue;
        }
        if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) {
            off += 2;
            continue;
        }
        size_t seg = (size_t)d[off + 2] << 8 | d[off + 3];
        if (seg < 2 || off + 2 + seg > len)
            return refuse(why, whysz, "the JPEG is cut short (a segment runs past the end of the file)");
        int sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof) {
            if (seg < 7)
                return refuse(why, whysz, "the JPEG's frame header is too short");
            info->height = d[off + 5] << 8 | d[off + 6];
            info->width = d[off + 7] << 8 | d[off + 8];
            return 0;
        }
        if (m == 0xDA || m == 0xD9)
            break;
        off += 2 + seg;
    }
    return refuse(why, whysz, "the JPEG has no frame header (no image size)");
}

/* RIFF container: the RIFF size must match the file; the first chunk is
 * VP8 (lossy), VP8L (lossless) or VP8X (extended), each with its own size
 * encoding. */
static int check_webp(const unsigned char *d, size_t len, struct meal_image_info *info, char *why, size_t whysz)
{
    if (len < 30)
        return refuse(why, whysz, "the WebP is cut short");
    uint32_t riff = le32(d + 4);
    if ((size_t)riff + 8 > len)
        return refuse(why, whysz, "the WebP is cut short (shorter than its RIFF header says)");
    if ((size_t)riff + 8 < len)
        return refuse(why, whysz, "the WebP has bytes after its end");
    const unsigned char *c = d + 12;
    if (memcmp(c, "VP8X", 4) == 0) {
        info->width = 1 + (int)(c[12] | c[13] << 8 | c[14] << 16);
        info->height = 1 + (int)(c[15] | c[16] << 8 | c[17] << 16);
    } else if (memcmp(c, "VP8L", 4) == 0) {
        if (c[8] != 0x2F)
            return refuse(why, whysz, "the WebP lossless header is broken");
        uint32_t bits = le32(c + 9);
        info->width = 1 + (int)(bits & 0x3FFF);
        info->height = 1 + (int)((bits >> 14) & 0x3FFF);
    } else if (memcmp(c, "VP8 ", 4) == 0) {
        if (c[11] != 0x9D || c[12] != 0x01 || c[13] != 0x2A)
            return refuse(why, whysz, "the WebP lossy header is broken");
        info->width = (c[14] | c[15] << 8) & 0x3FFF;
        info->height = (c[16] | c[17] << 8) & 0x3FFF;
    } else {
        return refuse(why, whysz, "the WebP has no image chunk");
    }
    return 0;
}

int meal_bytes_check(const unsigned char *data, size_t len, int max_dim, struct meal_image_info *info, char *why,
                     size_t whysz)
{
    static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
    memset(info, 0, sizeof *info);
    int rc;
    if (len >= 8 && memcmp(data, png_sig, 8) == 0) {
        info->format = MEAL_FMT_PNG;
        info->mime = "image/png";
        rc = check_png(data, len, info, why, whysz);
    } else if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        info->format = MEAL_FMT_JPEG;
        info->mime = "image/jpeg";
        rc = check_jpeg(data, len, info, why, whysz);
    } else if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0) {
        info->format = MEAL_FMT_WEBP;
        info->mime = "image/webp";
        rc = check_webp(data, len, info, why, whysz);
    } else {
        return refuse(why, whysz, "the file is not a JPEG, PNG or WebP image");
    }
    if (rc)
        return rc;
    const char *name = info->format == MEAL_FMT_PNG ? "PNG" : info->format == MEAL_FMT_JPEG ? "JPEG" : "WebP";
    if (info->width < 1 || info->height < 1) {
        snprintf(why, whysz, "the %s header claims an empty image (%d x %d pixels)", name, info->width, info->height);
        return HF_EINVAL;
    }
    if (info->width > max_dim || info->height > max_dim) {
        snprintf(why, whysz, "the %s header claims %d x %d pixels, more than %d per side", name, info->width,
                 info->height, max_dim);
        return HF_EINVAL;
    }
    return 0;
}
