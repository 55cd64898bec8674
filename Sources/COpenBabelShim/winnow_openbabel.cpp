// Implementation of the C API in include/winnow_openbabel.h. See design.md for why it looks like this:
// ReadString/WriteString corrupt the heap under threads, the global error log crashes under threads,
// and V3000 molfiles keep state in the shared format object.
#include "winnow_openbabel.h"

// Open Babel 3.1.1's plugin.h derives from std::binary_function (deprecated in C++11): silence
// that one warning for its headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <openbabel/atom.h>
#include <openbabel/bond.h>
#include <openbabel/elements.h>
#include <openbabel/mol.h>
#include <openbabel/obconversion.h>
#include <openbabel/oberror.h>
#include <openbabel/op.h>
#include <openbabel/plugin.h>
#include <openbabel/babelconfig.h>
#include <openbabel/obiter.h>
#include <openbabel/stereo/cistrans.h>
#include <openbabel/stereo/stereo.h>
#include <openbabel/stereo/tetrahedral.h>
#pragma GCC diagnostic pop

#include <cstring>
#include <cstdlib>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#endif
#include <exception>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

using namespace OpenBabel;

namespace {
std::once_flag initialization_flag;
std::mutex v3000_mutex;

// The plugins Winnow uses: SMILES and canonical SMILES, molfiles, InChI/InChIKey, SVG depictions and
// the gen2D layout operation. Open Babel's first format lookup otherwise dlopens every one of its
// ~127 plugins (quantum-chemistry outputs, crystallography, ...): about 50 ms of every command's
// start, a quarter of the time a one-query `winnow search` may take. A format outside this list
// would not be found; add its plugin file here.
const char *const needed_plugins[] = {"smilesformat.so", "mdlformat.so", "inchiformat.so", "svgformat.so", "plugin_ops.so"};

// OBPlugin::AllPluginsLoaded is protected: a subclass may set it (never instantiated).
struct PluginsLoaded : OBPlugin {
    static void mark() { AllPluginsLoaded = 1; }
};

// Open Babel's plugin folder: $BABEL_LIBDIR when set (as Open Babel itself reads it), else
// `openbabel/<version>` beside the libopenbabel this process loaded.
std::string plugin_folder() {
    if (const char *env = std::getenv("BABEL_LIBDIR")) {
        if (*env) return std::string(env);
    }
    Dl_info info;
    if (dladdr(static_cast<const void *>(&obErrorLog), &info) == 0 || info.dli_fname == nullptr) return "";
    std::string library(info.dli_fname);
    size_t slash = library.rfind('/');
    if (slash == std::string::npos) return "";
    return library.substr(0, slash) + "/openbabel/" + BABEL_VERSION;
}

// Loads only `needed_plugins` and tells Open Babel its plugins are loaded. When any of them cannot
// be loaded (another layout, a renamed file), nothing is marked and Open Babel loads all of them on
// first use as before: slower, never wrong.
void load_needed_plugins() {
    std::string folder = plugin_folder();
    if (folder.empty()) return;
    for (const char *name : needed_plugins) {
        std::string path = folder + "/" + name;
        if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) return;
    }
    PluginsLoaded::mark();
}

void initialize_once() {
    obErrorLog.StopLogging();
    obErrorLog.SetOutputLevel(obError);
    // Loading the plugins touches global tables: do it before threads exist.
    load_needed_plugins();
    OBConversion warmup;
    warmup.SetInFormat("smi");
    warmup.SetInFormat("mol");
    OBMol mol;
    std::istringstream in("CCO\n");
    warmup.SetInFormat("smi");
    warmup.SetInStream(&in, false);
    if (OBFormat *smi = OBConversion::FindFormat("smi")) {
        smi->ReadMolecule(&mol, &warmup);
        for (OBAtomIterator it = mol.BeginAtoms(); it != mol.EndAtoms(); ++it) { (*it)->IsAromatic(); }
    }
}

bool is_v3000(const char *text, size_t length) {
    // The counts line (4th line) ends in V3000 for an extended molfile.
    size_t line = 0, start = 0;
    for (size_t i = 0; i < length; ++i) {
        if (text[i] == '\n') {
            if (line == 3) {
                std::string counts(text + start, i - start);
                return counts.find("V3000") != std::string::npos;
            }
            ++line;
            start = i + 1;
        }
    }
    return false;
}
}  // namespace

struct wob_parser {
    OBConversion conversion;
    OBFormat *smiles = nullptr;
    OBFormat *molfile = nullptr;
    OBMol mol;
    std::istringstream input;
    std::string buffer;
    std::vector<wob_atom> atoms;
    std::vector<wob_bond> bonds;
    std::vector<wob_tetrahedral> tetrahedral;
    std::vector<wob_cis_trans> cis_trans;
    std::string message;
    std::string text;
};

extern "C" void wob_initialize(void) { std::call_once(initialization_flag, initialize_once); }

extern "C" wob_parser *wob_parser_create(void) {
    wob_initialize();
    try {
        auto *parser = new wob_parser();
        parser->smiles = OBConversion::FindFormat("smi");
        parser->molfile = OBConversion::FindFormat("mol");
        if (parser->smiles == nullptr || parser->molfile == nullptr) {
            delete parser;
            return nullptr;
        }
        parser->conversion.SetInFormat(parser->smiles);
        // "a" keeps the aromaticity written in the SMILES as Open Babel's perceived state. Without it,
        // the parser's cis/trans pass asks every double bond IsAromatic(), which runs Open Babel's
        // SSSR and aromatic typer: 60% of the parse time. Winnow perceives aromaticity itself.
        parser->conversion.AddOption("a", OBConversion::INOPTIONS);
        return parser;
    } catch (...) {
        return nullptr;
    }
}

extern "C" void wob_parser_destroy(wob_parser *parser) { delete parser; }

// Open Babel refers to atoms by id; Winnow by 0-based index. -1 for an implicit ref (hydrogen, lone
// pair), -2 for an id that names no atom.
static int32_t atom_index(OBMol &mol, unsigned long ref) {
    if (ref == OBStereo::ImplicitRef) return -1;
    OBAtom *atom = mol.GetAtomById(ref);
    return atom == nullptr ? -2 : static_cast<int32_t>(atom->GetIdx()) - 1;
}

// Copies the specified stereo units out. Readers leave them as generic data: the SMILES reader from
// @, @@ and the bond directions (slash, backslash); the MDL reader from wedges and 2D coordinates,
// from 3D coordinates or from 0D parities. Walking the data list costs nothing when a molecule has
// none, and no perception is triggered here.
static void copy_stereo(wob_parser *p) {
    OBMol &mol = p->mol;
    for (OBDataIterator it = mol.BeginData(); it != mol.EndData(); ++it) {
        if ((*it)->GetDataType() != OBGenericDataType::StereoData) continue;
        OBStereoBase *base = static_cast<OBStereoBase *>(*it);
        if (base->GetType() == OBStereo::Tetrahedral) {
            OBTetrahedralStereo *ts = static_cast<OBTetrahedralStereo *>(base);
            OBTetrahedralStereo::Config config = ts->GetConfig();
            if (!config.specified || config.winding == OBStereo::UnknownWinding || config.refs.size() != 3) continue;
            config = ts->GetConfig(config.from, OBStereo::Clockwise, OBStereo::ViewFrom);
            wob_tetrahedral out;
            out.centre = atom_index(mol, config.center);
            out.refs[0] = atom_index(mol, config.from);
            bool valid = out.centre >= 0 && out.refs[0] >= -1;
            for (int k = 0; k < 3 && valid; ++k) {
                out.refs[k + 1] = atom_index(mol, config.refs[k]);
                valid = out.refs[k + 1] >= -1;
            }
            if (valid) p->tetrahedral.push_back(out);
        } else if (base->GetType() == OBStereo::CisTrans) {
            OBCisTransStereo *ct = static_cast<OBCisTransStereo *>(base);
            OBCisTransStereo::Config config = ct->GetConfig(OBStereo::ShapeU);
            if (!config.specified || config.refs.size() != 4) continue;
            OBAtom *begin = mol.GetAtomById(config.begin), *end = mol.GetAtomById(config.end);
            if (begin == nullptr || end == nullptr) continue;
            // One real (not implicit) reference atom on each side, and its relation to the other.
            unsigned long begin_ref = OBStereo::NoRef, end_ref = OBStereo::NoRef;
            for (unsigned long ref : config.refs) {
                OBAtom *atom = ref == OBStereo::ImplicitRef ? nullptr : mol.GetAtomById(ref);
                if (atom == nullptr) continue;
                if (begin_ref == OBStereo::NoRef && atom != end && mol.GetBond(atom, begin) != nullptr) begin_ref = ref;
                else if (end_ref == OBStereo::NoRef && atom != begin && mol.GetBond(atom, end) != nullptr) end_ref = ref;
            }
            if (begin_ref == OBStereo::NoRef || end_ref == OBStereo::NoRef) continue;
            wob_cis_trans out;
            out.begin = static_cast<int32_t>(begin->GetIdx()) - 1;
            out.end = static_cast<int32_t>(end->GetIdx()) - 1;
            out.begin_ref = atom_index(mol, begin_ref);
            out.end_ref = atom_index(mol, end_ref);
            out.cis = ct->IsCis(begin_ref, end_ref) ? 1 : 0;
            if (out.begin_ref >= 0 && out.end_ref >= 0) p->cis_trans.push_back(out);
        }
    }
}

static wob_status copy_out(wob_parser *p) {
    OBMol &mol = p->mol;
    const int n = static_cast<int>(mol.NumAtoms());
    if (n == 0) {
        p->message = "no atoms";
        return WOB_NO_ATOMS;
    }
    p->atoms.resize(n);
    for (int i = 0; i < n; ++i) {
        OBAtom *atom = mol.GetAtom(i + 1);
        wob_atom &out = p->atoms[i];
        out.atomic_number = static_cast<int32_t>(atom->GetAtomicNum());
        out.formal_charge = atom->GetFormalCharge();
        out.isotope = static_cast<int32_t>(atom->GetIsotope());
        out.implicit_h = static_cast<int32_t>(atom->GetImplicitHCount());
        // Aromaticity is perceived in Swift (RDKit's model); asking Open Babel would run its own
        // ring and aromaticity perception, which costs more than the parse itself.
        out.aromatic = 0;
        out.spin = static_cast<int32_t>(atom->GetSpinMultiplicity());
        out.isotope_mass = out.isotope != 0
            ? OBElements::GetExactMass(static_cast<unsigned>(out.atomic_number), static_cast<unsigned>(out.isotope))
            : 0.0;
    }
    const int m = static_cast<int>(mol.NumBonds());
    p->bonds.resize(m);
    for (int i = 0; i < m; ++i) {
        OBBond *bond = mol.GetBond(i);
        wob_bond &out = p->bonds[i];
        out.begin = static_cast<int32_t>(bond->GetBeginAtomIdx()) - 1;
        out.end = static_cast<int32_t>(bond->GetEndAtomIdx()) - 1;
        out.order = static_cast<int32_t>(bond->GetBondOrder());
        out.aromatic = 0;
    }
    copy_stereo(p);
    p->message.clear();
    return WOB_OK;
}

extern "C" wob_status wob_parser_parse(wob_parser *p, wob_format format, const char *text, size_t length) {
    if (p == nullptr) return WOB_INTERNAL;
    p->atoms.clear();
    p->bonds.clear();
    p->tetrahedral.clear();
    p->cis_trans.clear();
    try {
        p->mol.Clear();
        p->buffer.assign(text, length);
        OBFormat *reader = format == WOB_SMILES ? p->smiles : p->molfile;
        if (format == WOB_SMILES) p->buffer.push_back('\n');
        p->input.clear();
        p->input.str(p->buffer);
        p->conversion.SetInFormat(reader);
        p->conversion.SetInStream(&p->input, false);
        bool ok;
        if (format == WOB_MOLFILE && is_v3000(text, length)) {
            std::lock_guard<std::mutex> guard(v3000_mutex);
            ok = reader->ReadMolecule(&p->mol, &p->conversion);
        } else {
            ok = reader->ReadMolecule(&p->mol, &p->conversion);
        }
        if (!ok) {
            p->message = format == WOB_SMILES ? "Open Babel could not parse the SMILES"
                                              : "Open Babel could not parse the molfile record";
            return WOB_PARSE_FAILED;
        }
        return copy_out(p);
    } catch (const std::exception &e) {
        p->message = std::string("Open Babel failed: ") + e.what();
        return WOB_INTERNAL;
    } catch (...) {
        p->message = "Open Babel failed with an unknown exception";
        return WOB_INTERNAL;
    }
}

extern "C" int32_t wob_parser_atom_count(const wob_parser *p) { return static_cast<int32_t>(p->atoms.size()); }
extern "C" const wob_atom *wob_parser_atoms(const wob_parser *p) { return p->atoms.data(); }
extern "C" int32_t wob_parser_bond_count(const wob_parser *p) { return static_cast<int32_t>(p->bonds.size()); }
extern "C" const wob_bond *wob_parser_bonds(const wob_parser *p) { return p->bonds.data(); }
extern "C" int32_t wob_parser_tetrahedral_count(const wob_parser *p) { return static_cast<int32_t>(p->tetrahedral.size()); }
extern "C" const wob_tetrahedral *wob_parser_tetrahedral(const wob_parser *p) { return p->tetrahedral.data(); }
extern "C" int32_t wob_parser_cis_trans_count(const wob_parser *p) { return static_cast<int32_t>(p->cis_trans.size()); }
extern "C" const wob_cis_trans *wob_parser_cis_trans(const wob_parser *p) { return p->cis_trans.data(); }
extern "C" const char *wob_parser_message(const wob_parser *p) { return p->message.c_str(); }

extern "C" const char *wob_element_symbol(int32_t z) {
    if (z < 0 || z > 118) return "Xx";
    return OBElements::GetSymbol(static_cast<unsigned>(z));
}

extern "C" int32_t wob_atomic_number(const char *symbol) {
    if (symbol == nullptr) return 0;
    return static_cast<int32_t>(OBElements::GetAtomicNum(symbol));
}

namespace {
std::mutex depiction_mutex;

// Specified tetrahedral centres of a molecule (no perception triggered).
int specified_centres(OBMol &mol) {
    int count = 0;
    for (OBDataIterator it = mol.BeginData(); it != mol.EndData(); ++it) {
        if ((*it)->GetDataType() != OBGenericDataType::StereoData) continue;
        OBStereoBase *base = static_cast<OBStereoBase *>(*it);
        if (base->GetType() == OBStereo::Tetrahedral && static_cast<OBTetrahedralStereo *>(base)->GetConfig().specified) ++count;
    }
    return count;
}

bool layout_and_write(OBMol &mol, OBFormat *out, std::string &text) {
    OBOp *layout = OBOp::FindType("gen2D");
    if (layout == nullptr || !layout->Do(&mol)) return false;
    mol.SetDimension(2);
    std::ostringstream output;
    OBConversion writer;
    writer.SetOutFormat(out);
    writer.SetOutStream(&output, false);
    if (!out->WriteMolecule(&mol, &writer)) return false;
    text = output.str();
    return true;
}

// Tetrahedral centres the MDL reader perceives in a molfile (wedges with 2D coordinates).
int centres_read_back(const std::string &text) {
    OBFormat *reader = OBConversion::FindFormat("mol");
    if (reader == nullptr) return -1;
    OBMol mol;
    std::istringstream input(text);
    OBConversion conversion;
    conversion.SetInFormat(reader);
    conversion.SetInStream(&input, false);
    if (!reader->ReadMolecule(&mol, &conversion)) return -1;
    return specified_centres(mol);
}

// A 2D molfile whose wedges and double-bond geometry carry the SMILES' stereo. Open Babel's wedge
// placement gives up on some ring-fusion centres whose bonds all lead to other centres (steroids,
// vinca alkaloids): the record is read back, and when a centre went missing, the centres' implicit
// hydrogens are drawn as atoms (as chemists draw them there) so that a wedge can go on the C-H bond.
// (Double-bond geometry lives in the coordinates, which the layout keeps.)
wob_status molfile_with_stereo(wob_parser *p, OBMol &mol, OBFormat *out) {
    const int wanted = specified_centres(mol);
    if (!layout_and_write(mol, out, p->text)) {
        p->message = "Open Babel could not lay out the molecule in 2D";
        return WOB_INTERNAL;
    }
    if (wanted == 0 || centres_read_back(p->text) >= wanted) return WOB_OK;
    std::vector<OBAtom *> centres;
    for (OBDataIterator it = mol.BeginData(); it != mol.EndData(); ++it) {
        if ((*it)->GetDataType() != OBGenericDataType::StereoData) continue;
        OBStereoBase *base = static_cast<OBStereoBase *>(*it);
        if (base->GetType() != OBStereo::Tetrahedral) continue;
        OBTetrahedralStereo::Config config = static_cast<OBTetrahedralStereo *>(base)->GetConfig();
        OBAtom *centre = mol.GetAtomById(config.center);
        if (config.specified && centre != nullptr && centre->GetImplicitHCount() > 0) centres.push_back(centre);
    }
    if (centres.empty()) return WOB_OK;
    std::string first = p->text;
    for (OBAtom *centre : centres) mol.AddHydrogens(centre);
    if (!layout_and_write(mol, out, p->text) || centres_read_back(p->text) < centres_read_back(first)) p->text = first;
    return WOB_OK;
}

wob_status depict(wob_parser *p, const char *smiles, size_t length, const char *format, int32_t size, bool layout = true) {
    if (p == nullptr) return WOB_INTERNAL;
    // Depictions share Open Babel's global layout code; one at a time.
    std::lock_guard<std::mutex> guard(depiction_mutex);
    try {
        OBMol mol;
        std::string buffer(smiles, length);
        buffer.push_back('\n');
        std::istringstream input(buffer);
        OBConversion reader;
        reader.SetInFormat(p->smiles);
        reader.SetInStream(&input, false);
        if (!p->smiles->ReadMolecule(&mol, &reader)) {
            p->message = "Open Babel could not parse the SMILES";
            return WOB_PARSE_FAILED;
        }
        OBFormat *out = OBConversion::FindFormat(format);
        if (out == nullptr) {
            p->message = std::string("Open Babel has no ") + format + " format";
            return WOB_INTERNAL;
        }
        if (std::string(format) == "mol" && layout) return molfile_with_stereo(p, mol, out);
        std::ostringstream output;
        OBConversion writer;
        writer.SetOutFormat(out);
        writer.SetOutStream(&output, false);
        if (std::string(format) == "can") writer.AddOption("n", OBConversion::OUTOPTIONS);
        if (std::string(format) == "svg") {
            std::string pixels = std::to_string(size);
            writer.AddOption("P", OBConversion::OUTOPTIONS, pixels.c_str());
            writer.AddOption("d", OBConversion::OUTOPTIONS);
        }
        if (!out->WriteMolecule(&mol, &writer)) {
            p->message = "Open Babel could not write the depiction";
            return WOB_INTERNAL;
        }
        p->text = output.str();
        return WOB_OK;
    } catch (const std::exception &e) {
        p->message = std::string("Open Babel failed: ") + e.what();
        return WOB_INTERNAL;
    } catch (...) {
        p->message = "Open Babel failed with an unknown exception";
        return WOB_INTERNAL;
    }
}
}  // namespace

extern "C" wob_status wob_depict_svg(wob_parser *p, const char *smiles, size_t length, int32_t size) {
    return depict(p, smiles, length, "svg", size);
}

extern "C" wob_status wob_molfile_2d(wob_parser *p, const char *smiles, size_t length) {
    return depict(p, smiles, length, "mol", 0);
}

namespace {
bool write_all(int fd, const char *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

double monotonic_seconds() {
    timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Open Babel's 2D layout cannot be interrupted and takes minutes on some large molecules, so a
// limited depiction runs in a forked child that sends back its status and text through a pipe;
// the parent kills the child when the time is up. Depictions run on one thread after the screen,
// so no other thread of ours is inside Open Babel when the child starts.
wob_status depict_limited(wob_parser *p, const char *smiles, size_t length, const char *format, int32_t size, double seconds) {
    if (p == nullptr) return WOB_INTERNAL;
    if (!(seconds > 0)) return depict(p, smiles, length, format, size);
    int fds[2];
    if (pipe(fds) != 0) {
        p->message = "cannot open a pipe for the 2D layout";
        return WOB_INTERNAL;
    }
    pid_t child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        p->message = "cannot start a process for the 2D layout";
        return WOB_INTERNAL;
    }
    if (child == 0) {
        close(fds[0]);
        wob_status status = depict(p, smiles, length, format, size);
        const std::string &text = status == WOB_OK ? p->text : p->message;
        int32_t code = status;
        bool sent = write_all(fds[1], reinterpret_cast<const char *>(&code), sizeof code) && write_all(fds[1], text.data(), text.size());
        _exit(sent ? 0 : 1);
    }
    close(fds[1]);
    std::string data;
    std::vector<char> buffer(1 << 16);
    const double deadline = monotonic_seconds() + seconds;
    bool timed_out = false, failed = false;
    while (true) {
        double left = deadline - monotonic_seconds();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd ready{fds[0], POLLIN, 0};
        int count = poll(&ready, 1, static_cast<int>(std::min(left * 1000 + 1, 1e9)));
        if (count < 0) {
            if (errno == EINTR) continue;
            failed = true;
            break;
        }
        if (count == 0) continue;
        ssize_t n = read(fds[0], buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            failed = true;
            break;
        }
        if (n == 0) break;
        data.append(buffer.data(), static_cast<size_t>(n));
    }
    close(fds[0]);
    if (timed_out || failed) kill(child, SIGKILL);
    int child_status = 0;
    while (waitpid(child, &child_status, 0) < 0 && errno == EINTR) {}
    if (timed_out) {
        char message[160];
        snprintf(message, sizeof message, "Open Babel's 2D layout took longer than %g s and was stopped", seconds);
        p->message = message;
        return WOB_INTERNAL;
    }
    if (failed || data.size() < sizeof(int32_t) || !WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0) {
        p->message = "the 2D layout process failed";
        return WOB_INTERNAL;
    }
    int32_t code = 0;
    std::memcpy(&code, data.data(), sizeof code);
    if (code == WOB_OK) {
        p->text = data.substr(sizeof code);
        return WOB_OK;
    }
    p->message = data.substr(sizeof code);
    return code == WOB_PARSE_FAILED || code == WOB_NO_ATOMS ? static_cast<wob_status>(code) : WOB_INTERNAL;
}
}  // namespace

extern "C" wob_status wob_depict_svg_limited(wob_parser *p, const char *smiles, size_t length, int32_t size, double seconds) {
    return depict_limited(p, smiles, length, "svg", size, seconds);
}

extern "C" wob_status wob_molfile_2d_limited(wob_parser *p, const char *smiles, size_t length, double seconds) {
    return depict_limited(p, smiles, length, "mol", 0, seconds);
}

extern "C" wob_status wob_molfile_no_layout(wob_parser *p, const char *smiles, size_t length) {
    return depict(p, smiles, length, "mol", 0, false);
}

extern "C" wob_status wob_canonical_smiles(wob_parser *p, const char *smiles, size_t length) {
    wob_status status = depict(p, smiles, length, "can", 0);
    // The writer ends the line (and would append a title); keep the SMILES only.
    if (status == WOB_OK) {
        size_t cut = p->text.find_first_of("\t\r\n");
        if (cut != std::string::npos) p->text.erase(cut);
    }
    return status;
}

namespace {
// The InChI library keeps global state between calls; one InChI at a time.
std::mutex inchi_mutex;
}

extern "C" wob_status wob_inchikey(wob_parser *p, const char *smiles, size_t length) {
    if (p == nullptr) return WOB_INTERNAL;
    std::lock_guard<std::mutex> guard(inchi_mutex);
    try {
        OBFormat *out = OBConversion::FindFormat("inchikey");
        if (out == nullptr) {
            p->message = "Open Babel's InChI plugin (inchiformat.so) is missing";
            return WOB_INTERNAL;
        }
        OBMol mol;
        std::string buffer(smiles, length);
        buffer.push_back('\n');
        std::istringstream input(buffer);
        OBConversion reader;
        reader.SetInFormat(p->smiles);
        reader.SetInStream(&input, false);
        if (!p->smiles->ReadMolecule(&mol, &reader)) {
            p->message = "Open Babel could not parse the SMILES";
            return WOB_PARSE_FAILED;
        }
        std::ostringstream output;
        OBConversion writer;
        writer.SetOutFormat(out);
        writer.SetOutStream(&output, false);
        // Warnings ("Omitted undefined stereo", "Charges were rearranged") are not failures.
        writer.AddOption("w", OBConversion::OUTOPTIONS);
        if (!out->WriteMolecule(&mol, &writer)) {
            p->message = "Open Babel's InChI writer gave no InChIKey";
            return WOB_INTERNAL;
        }
        p->text = output.str();
        size_t cut = p->text.find_first_of(" \t\r\n");
        if (cut != std::string::npos) p->text.erase(cut);
        if (p->text.size() != 27) {
            p->message = "Open Babel's InChI writer gave no InChIKey";
            return WOB_INTERNAL;
        }
        return WOB_OK;
    } catch (const std::exception &e) {
        p->message = std::string("Open Babel failed: ") + e.what();
        return WOB_INTERNAL;
    } catch (...) {
        p->message = "Open Babel failed with an unknown exception";
        return WOB_INTERNAL;
    }
}

extern "C" const char *wob_parser_text(const wob_parser *p) { return p->text.c_str(); }
