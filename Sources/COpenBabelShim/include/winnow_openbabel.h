/*
 * A small C API over Open Babel for Winnow. No C++ type crosses it: handles are opaque, results are
 * plain structs copied out by the caller at once, and every call returns a status code; the reason
 * for a failure is read with wob_parser_message().
 *
 * Threading (measured on Open Babel 3.1.1, see design.md): call wob_initialize() once before any
 * thread starts; use one wob_parser per thread; never share a parser between threads at once.
 * MDL V3000 records are parsed under a process-wide lock because Open Babel keeps V3000 reader state
 * in the shared format object.
 */
#ifndef WINNOW_OPENBABEL_H
#define WINNOW_OPENBABEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    WOB_OK = 0,
    WOB_PARSE_FAILED = 1,  /* Open Babel could not read the record */
    WOB_NO_ATOMS = 2,      /* the record parsed to an empty molecule */
    WOB_INTERNAL = 3,      /* an exception or an unexpected state inside Open Babel */
} wob_status;

typedef enum {
    WOB_SMILES = 0,
    WOB_MOLFILE = 1,
} wob_format;

typedef struct {
    int32_t atomic_number;
    int32_t formal_charge;
    int32_t isotope;          /* 0 when none was given */
    int32_t implicit_h;       /* implicit hydrogens Open Babel assigned */
    int32_t aromatic;         /* Open Babel's aromaticity perception, 0 or 1 */
    int32_t spin;             /* spin multiplicity, 0 when unset */
    double isotope_mass;      /* exact mass of the isotope, 0 when isotope is 0 */
} wob_atom;

typedef struct {
    int32_t begin;            /* 0-based atom indices */
    int32_t end;
    int32_t order;            /* Kekulé bond order: 1, 2, 3 (or 4, 5 from exotic input) */
    int32_t aromatic;         /* Open Babel's aromaticity perception, 0 or 1 */
} wob_bond;

/* A tetrahedral stereocentre Open Babel perceived (SMILES @/@@, molfile wedges, parity or 3D). */
typedef struct {
    int32_t centre;           /* 0-based atom index */
    int32_t refs[4];          /* 0-based atom indices, -1 for an implicit hydrogen or a lone pair:
                                 seen from refs[0], refs[1], refs[2], refs[3] turn clockwise */
} wob_tetrahedral;

/* A double bond with defined geometry (SMILES / and \, molfile 2D/3D coordinates). */
typedef struct {
    int32_t begin;            /* 0-based atom indices of the double bond */
    int32_t end;
    int32_t begin_ref;        /* an atom bonded to begin (not the end atom) */
    int32_t end_ref;          /* an atom bonded to end (not the begin atom) */
    int32_t cis;              /* 1 when begin_ref and end_ref are on the same side, 0 when opposite */
} wob_cis_trans;

typedef struct wob_parser wob_parser;

/* Turns Open Babel's global error log off and loads the format plugins. Idempotent, thread safe. */
void wob_initialize(void);

/* Returns NULL only when Open Babel's SMILES or MDL format plugin is missing. */
wob_parser *wob_parser_create(void);
void wob_parser_destroy(wob_parser *parser);

/* Parses one record (a SMILES string without its title, or one molfile record). */
wob_status wob_parser_parse(wob_parser *parser, wob_format format, const char *text, size_t length);

int32_t wob_parser_atom_count(const wob_parser *parser);
const wob_atom *wob_parser_atoms(const wob_parser *parser);
int32_t wob_parser_bond_count(const wob_parser *parser);
const wob_bond *wob_parser_bonds(const wob_parser *parser);
/* Stereo of the last parsed record: specified tetrahedral centres and cis/trans double bonds only. */
int32_t wob_parser_tetrahedral_count(const wob_parser *parser);
const wob_tetrahedral *wob_parser_tetrahedral(const wob_parser *parser);
int32_t wob_parser_cis_trans_count(const wob_parser *parser);
const wob_cis_trans *wob_parser_cis_trans(const wob_parser *parser);
/* NUL-terminated; empty after success. Valid until the next call on the parser. */
const char *wob_parser_message(const wob_parser *parser);

/* Depictions for reports (not measured thread safe: call from one thread only). Both parse `smiles`,
 * lay it out in 2D (Open Babel's gen2D) and leave the text in wob_parser_text(): an SVG picture of
 * `size` pixels, or a V2000 molfile record without the `$$$$` line. */
wob_status wob_depict_svg(wob_parser *parser, const char *smiles, size_t length, int32_t size);
wob_status wob_molfile_2d(wob_parser *parser, const char *smiles, size_t length);
/* The same molfile record without the 2D layout (all coordinates 0): for molecules too big to lay out
 * in bounded time (gen2D's cost grows steeply with size and ring systems). */
wob_status wob_molfile_no_layout(wob_parser *parser, const char *smiles, size_t length);
/* wob_depict_svg / wob_molfile_2d with a time limit: the layout runs in a forked child process that
 * is killed after `seconds` (WOB_INTERNAL, with a message saying so). seconds <= 0: no limit, no child. */
wob_status wob_depict_svg_limited(wob_parser *parser, const char *smiles, size_t length, int32_t size, double seconds);
wob_status wob_molfile_2d_limited(wob_parser *parser, const char *smiles, size_t length, double seconds);
/* Open Babel's canonical isomeric SMILES (the `can` writer) of `smiles`, into wob_parser_text(); for
 * comparing molecules in tests and tools. One thread at a time, like the depictions. */
wob_status wob_canonical_smiles(wob_parser *parser, const char *smiles, size_t length);
/* The standard InChIKey of `smiles` (27 characters) through Open Babel's InChI plugin (inchiformat.so),
 * into wob_parser_text(). Serialised by a process-wide lock (the InChI library keeps global state). */
wob_status wob_inchikey(wob_parser *parser, const char *smiles, size_t length);
/* NUL-terminated output of the last depiction, canonical SMILES or InChIKey call. */
const char *wob_parser_text(const wob_parser *parser);

/* Open Babel's element symbol for an atomic number ("Xx" when unknown). */
const char *wob_element_symbol(int32_t atomic_number);
/* Open Babel's atomic number for a symbol, 0 when unknown. */
int32_t wob_atomic_number(const char *symbol);

#ifdef __cplusplus
}
#endif

#endif
